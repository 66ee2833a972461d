//! The xAPI Lambda's ClickHouse password, read from AWS Secrets Manager
//! once per cold start (`CLICKHOUSE_PASSWORD_SECRET_ARN`), so that neither
//! the function's configuration nor Terraform's state holds it. The value
//! lives in memory only; errors name the secret's ARN, never its value.

use std::time::Duration;

/// The environment variable naming the secret.
pub const SECRET_ARN_VAR: &str = "CLICKHOUSE_PASSWORD_SECRET_ARN";

/// Why the password could not be had: each is a configuration error at
/// start-up, not a failed insert later.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{SECRET_ARN_VAR}: the secret {arn} could not be read: {reason}")]
    Unreadable { arn: String, reason: String },
    #[error(
        "{SECRET_ARN_VAR}: the secret {arn} holds no text (SecretString); a binary secret cannot be a password"
    )]
    NotText { arn: String },
    #[error(
        "both CLICKHOUSE_PASSWORD and {SECRET_ARN_VAR} ({arn}) are set: keep the secret and remove the plain password"
    )]
    Both { arn: String },
}

/// Init has ten seconds in all; a secret that takes longer is unreadable.
const READ_TIMEOUT: Duration = Duration::from_secs(6);

/// The password the ClickHouse client should use: the secret's value when
/// `CLICKHOUSE_PASSWORD_SECRET_ARN` names one, else `CLICKHOUSE_PASSWORD`
/// (the CLI on a workstation), else none.
pub async fn clickhouse_password(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, SecretError> {
    let Some(arn) = get(SECRET_ARN_VAR) else {
        return Ok(get("CLICKHOUSE_PASSWORD"));
    };
    if get("CLICKHOUSE_PASSWORD").is_some() {
        return Err(SecretError::Both { arn });
    }
    read(&arn).await.map(Some)
}

/// The `SecretString` of the secret `arn`, with the standard AWS chain;
/// `EVENTLOG_SECRETS_ENDPOINT` (or `AWS_ENDPOINT_URL_SECRETS_MANAGER`)
/// points at a local server.
pub async fn read(arn: &str) -> Result<String, SecretError> {
    let shared = crate::aws::config(
        &[
            "EVENTLOG_SECRETS_ENDPOINT",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        ],
        Some(READ_TIMEOUT),
    )
    .await;
    let client = aws_sdk_secretsmanager::Client::new(&shared);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| SecretError::Unreadable {
            arn: arn.to_string(),
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(&e).to_string(),
        })?;
    out.secret_string.ok_or_else(|| SecretError::NotText {
        arn: arn.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[tokio::test]
    async fn the_plain_password_serves_when_no_secret_is_named() {
        let got = clickhouse_password(&env(&[("CLICKHOUSE_PASSWORD", "pw")])).await;
        assert_eq!(got, Ok(Some("pw".into())));
        assert_eq!(clickhouse_password(&env(&[])).await, Ok(None));
    }

    #[tokio::test]
    async fn a_secret_and_a_plain_password_together_are_refused() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ch-AbCdEf";
        let got = clickhouse_password(&env(&[
            ("CLICKHOUSE_PASSWORD", "pw"),
            (
                SECRET_ARN_VAR,
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:ch-AbCdEf",
            ),
        ]))
        .await;
        let err = got.unwrap_err();
        assert_eq!(err, SecretError::Both { arn: arn.into() });
        assert!(!err.to_string().contains("pw"), "{err}");
    }
}

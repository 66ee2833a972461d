//! Copies of SQS messages that cannot be processed, sent to a
//! dead-letter queue with the reason (`FAILURE_DLQ_URL`), as the reference
//! Lambda sends them: the original body, and the message attributes
//! `OriginalMessageId` and `FailureReason` (cut to 256 characters).

use aws_sdk_sqs::types::MessageAttributeValue;

/// Where failed messages go.
#[derive(Debug, Clone)]
pub struct Dlq {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl Dlq {
    /// The queue at `url`, reached with the standard AWS chain;
    /// `EVENTLOG_SQS_ENDPOINT` (or `AWS_ENDPOINT_URL_SQS`) points at a
    /// local SQS server.
    pub async fn new(url: &str) -> Dlq {
        let shared =
            crate::aws::config(&["EVENTLOG_SQS_ENDPOINT", "AWS_ENDPOINT_URL_SQS"], None).await;
        Dlq {
            client: aws_sdk_sqs::Client::new(&shared),
            url: url.to_string(),
        }
    }

    /// Send a copy of a message that failed for `reason`.
    pub async fn send(&self, message_id: &str, body: &str, reason: &str) -> Result<(), String> {
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| e.to_string())
        };
        let cut: String = reason.chars().take(256).collect();
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .message_attributes("OriginalMessageId", attr(message_id)?)
            .message_attributes("FailureReason", attr(&cut)?)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(&e).to_string())
    }
}

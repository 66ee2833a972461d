# The xAPI loader Lambda (the `xapi-bootstrap` binary): loads each new
# JSONL file of xAPI statements into ClickHouse when S3 reports it.
terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40"
    }
  }
}

locals {
  environment = merge(
    {
      S3_XAPI_BUCKET_NAME        = var.xapi_bucket
      CLICKHOUSE_URL             = var.clickhouse_url
      CLICKHOUSE_USER            = var.clickhouse_user
      CLICKHOUSE_DATABASE        = var.clickhouse_database
      XAPI_SERVER_SIDE_THRESHOLD = tostring(var.server_side_threshold)
      XAPI_TARGET                = var.xapi_target
      LOG_LEVEL                  = var.log_level
    },
    # Empty values would be read as "not set" anyway; leaving them out keeps
    # the console readable.
    var.clickhouse_cluster == "" ? {} : { CLICKHOUSE_CLUSTER = var.clickhouse_cluster },
    var.clickhouse_s3_auth == "" ? {} : { CLICKHOUSE_S3_AUTH = var.clickhouse_s3_auth },
    var.failure_dlq_url == "" ? {} : { FAILURE_DLQ_URL = var.failure_dlq_url },
    # The password is read from Secrets Manager at start-up; only its ARN
    # is here, so neither the function's configuration nor the state holds it.
    var.clickhouse_password_secret_arn == "" ? {} : { CLICKHOUSE_PASSWORD_SECRET_ARN = var.clickhouse_password_secret_arn },
  )
  queue = var.source_queue_arn != ""
}

data "aws_caller_identity" "current" {}

# Least privilege: list and read the statement files, read the password's
# secret. Nothing is written to S3; the data goes to ClickHouse. Logs,
# tracing and the dead-letter queue are granted by the module.
data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ListStatements"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.xapi_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.xapi_prefix}*"]
    }
  }
  statement {
    sid       = "ReadStatements"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${var.xapi_bucket}/${var.xapi_prefix}*"]
  }
  dynamic "statement" {
    for_each = var.clickhouse_password_secret_arn == "" ? [] : [1]
    content {
      sid       = "ClickHousePassword"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [var.clickhouse_password_secret_arn]
    }
  }
  # The notifications' queue, when the function reads one (raw-events).
  dynamic "statement" {
    for_each = local.queue ? [1] : []
    content {
      sid       = "ReadQueue"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
      resources = [var.source_queue_arn]
    }
  }
  # Copies of messages whose objects cannot load, with the reason.
  dynamic "statement" {
    for_each = var.failure_dlq_arn == "" ? [] : [1]
    content {
      sid       = "DeadLetters"
      actions   = ["sqs:SendMessage"]
      resources = [var.failure_dlq_arn]
    }
  }
}

module "function" {
  source                     = "../modules/function"
  function_name              = var.function_name
  description                = "Loads xAPI statement files into ClickHouse."
  package_path               = var.package_path
  architecture               = var.architecture
  memory_mb                  = var.memory_mb
  timeout_seconds            = var.timeout_seconds
  reserved_concurrency       = var.reserved_concurrency
  policy_json                = data.aws_iam_policy_document.this.json
  environment                = local.environment
  kms_key_arn                = var.kms_key_arn
  log_retention_days         = var.log_retention_days
  tracing                    = var.tracing
  subnet_ids                 = var.subnet_ids
  security_group_ids         = var.security_group_ids
  dead_letter_target_arn     = var.failure_destination_arn
  errors_alarm_description   = "A load failed as a whole (ClickHouse or S3 unreachable, nothing loaded); the notification is retried, then kept in the dead-letter target."
  duration_alarm_description = "Loads use more than 80% of the timeout: lower XAPI_SERVER_SIDE_THRESHOLD so large batches go server-side, or raise the timeout."
  alarm_actions              = var.alarm_actions
  tags                       = var.tags
}

# Every new .jsonl file under the prefix invokes the function; a failed
# invocation (nothing could be loaded) is retried by Lambda's async retries,
# then kept in the module's dead-letter target.
resource "aws_lambda_permission" "s3" {
  count          = var.enable_s3_trigger ? 1 : 0
  statement_id   = "AllowS3"
  action         = "lambda:InvokeFunction"
  function_name  = module.function.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = "arn:aws:s3:::${var.xapi_bucket}"
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_s3_bucket_notification" "statements" {
  count  = var.enable_s3_trigger ? 1 : 0
  bucket = var.xapi_bucket
  lambda_function {
    lambda_function_arn = module.function.function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = var.xapi_prefix
    filter_suffix       = ".jsonl"
  }
  depends_on = [aws_lambda_permission.s3]
}

# Torus's way: S3 notifications into an SQS queue, the function reading
# it in batches and answering with the messages that failed.
resource "aws_lambda_event_source_mapping" "queue" {
  count                              = local.queue ? 1 : 0
  event_source_arn                   = var.source_queue_arn
  function_name                      = module.function.function_arn
  batch_size                         = var.queue_batch_size
  maximum_batching_window_in_seconds = var.queue_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = var.queue_max_concurrency
  }
}

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
  vpc = length(var.subnet_ids) > 0
  environment = merge(
    {
      S3_XAPI_BUCKET_NAME        = var.xapi_bucket
      CLICKHOUSE_URL             = var.clickhouse_url
      CLICKHOUSE_USER            = var.clickhouse_user
      CLICKHOUSE_PASSWORD        = var.clickhouse_password
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
  )
  queue = var.source_queue_arn != ""
}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.function_name}-role"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

# Least privilege: list and read the statement files, write its own logs.
# Nothing is written to S3; the data goes to ClickHouse.
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
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
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

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-access"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

# ClickHouse usually lives in a VPC: the function joins it when subnets are given.
resource "aws_iam_role_policy_attachment" "vpc" {
  count      = local.vpc ? 1 : 0
  role       = aws_iam_role.this.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  function_name                  = var.function_name
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  environment {
    variables = local.environment
  }
  dynamic "vpc_config" {
    for_each = local.vpc ? [1] : []
    content {
      subnet_ids         = var.subnet_ids
      security_group_ids = var.security_group_ids
    }
  }
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }
  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy_attachment.vpc]
  tags       = var.tags
}

# Every new .jsonl file under the prefix invokes the function; a failed
# invocation (nothing could be loaded) is retried by Lambda's async retries.
resource "aws_lambda_permission" "s3" {
  count          = var.enable_s3_trigger ? 1 : 0
  statement_id   = "AllowS3"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = "arn:aws:s3:::${var.xapi_bucket}"
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_s3_bucket_notification" "statements" {
  count  = var.enable_s3_trigger ? 1 : 0
  bucket = var.xapi_bucket
  lambda_function {
    lambda_function_arn = aws_lambda_function.this.arn
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
  function_name                      = aws_lambda_function.this.arn
  batch_size                         = var.queue_batch_size
  maximum_batching_window_in_seconds = var.queue_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = var.queue_max_concurrency
  }
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 6 * 3600
  dynamic "destination_config" {
    for_each = var.failure_destination_arn == "" ? [] : [1]
    content {
      on_failure {
        destination = var.failure_destination_arn
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.function_name}-errors"
  alarm_description   = "A load failed as a whole (ClickHouse or S3 unreachable, nothing loaded); the notification is retried, then sent to the failure destination."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "duration" {
  alarm_name          = "${var.function_name}-duration"
  alarm_description   = "Loads use more than 80% of the timeout: lower XAPI_SERVER_SIDE_THRESHOLD so large batches go server-side, or raise the timeout."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  extended_statistic  = "p90"
  period              = 900
  evaluation_periods  = 1
  threshold           = var.timeout_seconds * 1000 * 0.8
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

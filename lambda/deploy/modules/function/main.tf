# One Lambda function as both eventlog functions are deployed: its role,
# log group, tracing, the dead-letter queue of its asynchronous
# invocations, and the alarms every function needs.
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
  vpc             = length(var.subnet_ids) > 0
  kms             = var.kms_key_arn != ""
  own_dead_letter = var.dead_letter_target_arn == ""
  dead_letter_arn = local.own_dead_letter ? aws_sqs_queue.async_failures[0].arn : var.dead_letter_target_arn
  dead_letter_sns = startswith(local.dead_letter_arn, "arn:aws:sns:")
}

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

# The caller's permissions, plus what every function needs: its own log
# group, its dead-letter target, and the KMS key when one is given.
data "aws_iam_policy_document" "this" {
  source_policy_documents = [var.policy_json]
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "AsyncFailures"
    actions   = [local.dead_letter_sns ? "sns:Publish" : "sqs:SendMessage"]
    resources = [local.dead_letter_arn]
  }
  dynamic "statement" {
    for_each = local.kms ? [1] : []
    content {
      sid       = "Key"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [var.kms_key_arn]
    }
  }
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-access"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_iam_role_policy_attachment" "vpc" {
  count      = local.vpc ? 1 : 0
  role       = aws_iam_role.this.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_iam_role_policy_attachment" "tracing" {
  count      = var.tracing ? 1 : 0
  role       = aws_iam_role.this.name
  policy_arn = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Encrypted with var.kms_key_arn when one is given; otherwise with CloudWatch's own keys, since a customer key costs money and needs a key policy that admits the logs service, which we cannot write for the deployer.
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = local.kms ? var.kms_key_arn : null
  tags              = var.tags
}

# Invocations that failed every asynchronous retry (the schedule, S3
# notifications) land here with their event, so nothing is dropped silently.
resource "aws_sqs_queue" "async_failures" {
  count                             = local.own_dead_letter ? 1 : 0
  name                              = "${var.function_name}-async-failures"
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = local.kms ? null : true
  kms_master_key_id                 = local.kms ? var.kms_key_arn : null
  kms_data_key_reuse_period_seconds = local.kms ? 300 : null
  tags                              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signed upload; the package is built by scripts/package-lambda.sh and its hash pinned by source_code_hash. Add aws_lambda_code_signing_config where a signing profile exists.
  #checkov:skip=CKV_AWS_173:The environment holds no secret (the ClickHouse password is read from Secrets Manager by ARN); it is encrypted with var.kms_key_arn when given, else with Lambda's own key.
  #checkov:skip=CKV_AWS_117:The VPC is optional (subnet_ids): the checkpoint function talks only to S3, and the xAPI function joins a VPC when ClickHouse is private.
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_mb
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = local.kms ? var.kms_key_arn : null
  ephemeral_storage {
    size = var.ephemeral_storage_mb
  }
  environment {
    variables = var.environment
  }
  tracing_config {
    mode = var.tracing ? "Active" : "PassThrough"
  }
  dead_letter_config {
    target_arn = local.dead_letter_arn
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
  depends_on = [aws_iam_role_policy.this, aws_iam_role_policy_attachment.vpc, aws_iam_role_policy_attachment.tracing]
  tags       = var.tags
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = 6 * 3600
}

# The function's own alarms: failed invocations, and runs near the timeout.
locals {
  function_alarms = {
    errors = {
      description = var.errors_alarm_description
      metric      = "Errors"
      statistic   = "Sum"
      percentile  = null
      period      = 300
      threshold   = 0
    }
    duration = {
      description = var.duration_alarm_description
      metric      = "Duration"
      statistic   = null
      percentile  = "p90"
      period      = 900
      threshold   = var.timeout_seconds * 1000 * 0.8
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each            = local.function_alarms
  alarm_name          = "${var.function_name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = each.value.statistic
  extended_statistic  = each.value.percentile
  period              = each.value.period
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags
}

moved {
  from = aws_cloudwatch_metric_alarm.errors
  to   = aws_cloudwatch_metric_alarm.function["errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.duration
  to   = aws_cloudwatch_metric_alarm.function["duration"]
}

# A message in the asynchronous dead-letter queue is an invocation that
# failed three times: someone should look at it.
module "async_failures_alarm" {
  source            = "../queue_alarm"
  count             = local.own_dead_letter ? 1 : 0
  alarm_name        = "${var.function_name}-async-failures"
  alarm_description = "An asynchronous invocation (schedule or S3 notification) failed every retry; its event is in the queue ${aws_sqs_queue.async_failures[0].name}."
  queue_name        = aws_sqs_queue.async_failures[0].name
  alarm_actions     = var.alarm_actions
  tags              = var.tags
}

moved {
  from = aws_cloudwatch_metric_alarm.dead_letters[0]
  to   = module.async_failures_alarm[0].aws_cloudwatch_metric_alarm.this
}

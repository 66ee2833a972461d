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
  checkpoint_bucket = var.checkpoint_bucket != "" ? var.checkpoint_bucket : var.source_bucket
  # Everything the function writes lives under the template's fixed prefix.
  checkpoint_prefix = split("{", var.checkpoint_key_template)[0]
  service           = var.function_name
}

# Least privilege: read and list the event files; read, list and write
# (conditionally, never delete) under the checkpoint prefix. Logs, tracing
# and the dead-letter queue are granted by the module.
data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ListEvents"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${var.source_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.source_prefix}*"]
    }
  }
  statement {
    sid       = "ReadEvents"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${var.source_bucket}/${var.source_prefix}*"]
  }
  # ListBucket lets a missing checkpoint read as 404 (start fresh) rather
  # than 403, which the function rightly treats as an error.
  statement {
    sid       = "ListCheckpoints"
    actions   = ["s3:ListBucket"]
    resources = ["arn:aws:s3:::${local.checkpoint_bucket}"]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${local.checkpoint_prefix}*"]
    }
  }
  statement {
    sid       = "ReadWriteCheckpoints"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = ["arn:aws:s3:::${local.checkpoint_bucket}/${local.checkpoint_prefix}*"]
  }
  # The monthly report (REPORT_PREFIX), when enabled: HEAD and replace its
  # files under that prefix only.
  dynamic "statement" {
    for_each = var.report_prefix == "" ? [] : [1]
    content {
      sid       = "WriteReport"
      actions   = ["s3:GetObject", "s3:PutObject"]
      resources = ["arn:aws:s3:::${local.checkpoint_bucket}/${trim(var.report_prefix, "/")}/*"]
    }
  }
}

module "function" {
  source               = "../modules/function"
  function_name        = var.function_name
  description          = "Merges new visit events into one parquet checkpoint per study and datatype."
  package_path         = var.package_path
  architecture         = var.architecture
  memory_mb            = var.memory_mb
  timeout_seconds      = var.timeout_seconds
  reserved_concurrency = var.reserved_concurrency
  ephemeral_storage_mb = var.ephemeral_storage_mb
  policy_json          = data.aws_iam_policy_document.this.json
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  tracing              = var.tracing
  subnet_ids           = var.subnet_ids
  security_group_ids   = var.security_group_ids
  environment = {
    SOURCE_BUCKET           = var.source_bucket
    PREFIX                  = var.source_prefix
    CHECKPOINT_BUCKET       = local.checkpoint_bucket
    CHECKPOINT_KEY_TEMPLATE = var.checkpoint_key_template
    LOG_LEVEL               = var.log_level
    POWERTOOLS_SERVICE_NAME = local.service
    EVENTLOG_MAX_FILES      = tostring(var.max_files_per_run)
    REPORT_PREFIX           = var.report_prefix
  }
  dead_letter_target_arn     = var.dead_letter_target_arn
  errors_alarm_description   = "A run failed: nothing could be committed, or the source or ledger could not be read."
  duration_alarm_description = "Runs use more than 80% of the timeout: raise the timeout or run more often."
  alarm_actions              = var.alarm_actions
  tags                       = var.tags
}

# Schedule.
resource "aws_cloudwatch_event_rule" "schedule" {
  count               = var.schedule_expression == "" ? 0 : 1
  name                = "${var.function_name}-schedule"
  schedule_expression = var.schedule_expression
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "schedule" {
  count = var.schedule_expression == "" ? 0 : 1
  rule  = aws_cloudwatch_event_rule.schedule[0].name
  arn   = module.function.function_arn
}

resource "aws_lambda_permission" "schedule" {
  count         = var.schedule_expression == "" ? 0 : 1
  statement_id  = "AllowSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.function.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.schedule[0].arn
}

# Event-driven runs: S3 notifications go to a queue; the function takes
# them in batches (exactly the keys named, no listing) and hands back the
# messages it could not finish (ReportBatchItemFailures). Messages that
# keep failing end in the dead-letter queue. The schedule above stays as
# the reconciliation sweep.
resource "aws_sqs_queue" "dead_letters" {
  count                     = var.enable_event_queue ? 1 : 0
  name                      = "${var.function_name}-dead-letters"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
  tags                      = var.tags
}

resource "aws_sqs_queue" "events" {
  count = var.enable_event_queue ? 1 : 0
  name  = "${var.function_name}-events"
  # At least six times the function's timeout, as Lambda advises, so a
  # message is not redelivered while a run still holds it.
  visibility_timeout_seconds = var.timeout_seconds * 6
  message_retention_seconds  = 345600
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters[0].arn
    maxReceiveCount     = var.queue_max_receive_count
  })
  tags = var.tags
}

data "aws_iam_policy_document" "queue" {
  count = var.enable_event_queue ? 1 : 0
  statement {
    sid       = "S3Notifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events[0].arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = ["arn:aws:s3:::${var.source_bucket}"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  count     = var.enable_event_queue ? 1 : 0
  queue_url = aws_sqs_queue.events[0].id
  policy    = data.aws_iam_policy_document.queue[0].json
}

data "aws_caller_identity" "current" {}

resource "aws_s3_bucket_notification" "events" {
  count  = var.enable_event_queue ? 1 : 0
  bucket = var.source_bucket
  queue {
    queue_arn     = aws_sqs_queue.events[0].arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = var.source_prefix
    filter_suffix = ".json"
  }
  depends_on = [aws_sqs_queue_policy.events]
}

data "aws_iam_policy_document" "consume" {
  count = var.enable_event_queue ? 1 : 0
  statement {
    sid       = "ConsumeEvents"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.events[0].arn]
  }
  # Looking a named key up (HEAD) needs only GetObject, granted above.
}

resource "aws_iam_role_policy" "consume" {
  count  = var.enable_event_queue ? 1 : 0
  name   = "${var.function_name}-queue"
  role   = module.function.role_id
  policy = data.aws_iam_policy_document.consume[0].json
}

resource "aws_lambda_event_source_mapping" "events" {
  count                              = var.enable_event_queue ? 1 : 0
  event_source_arn                   = aws_sqs_queue.events[0].arn
  function_name                      = module.function.function_arn
  batch_size                         = var.queue_batch_size
  maximum_batching_window_in_seconds = var.queue_batch_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  dynamic "scaling_config" {
    for_each = var.queue_max_concurrency > 0 ? [1] : []
    content {
      maximum_concurrency = var.queue_max_concurrency
    }
  }
  depends_on = [aws_iam_role_policy.consume]
}

module "dead_letters_alarm" {
  source            = "../modules/queue_alarm"
  count             = var.enable_event_queue ? 1 : 0
  alarm_name        = "${var.function_name}-dead-letters"
  alarm_description = "Notifications the function could not process after retries (poisoned messages, files that stay unreadable)."
  queue_name        = aws_sqs_queue.dead_letters[0].name
  alarm_actions     = var.alarm_actions
  tags              = var.tags
}

moved {
  from = aws_cloudwatch_metric_alarm.dead_letters[0]
  to   = module.dead_letters_alarm[0].aws_cloudwatch_metric_alarm.this
}

# Alarms beyond the module's errors, duration and dead letters.
resource "aws_cloudwatch_metric_alarm" "failed_events_ratio" {
  alarm_name          = "${var.function_name}-failed-events-ratio"
  alarm_description   = "More than the threshold fraction of event files read failed validation; see the run's errors file under _eventlog/errors/."
  evaluation_periods  = 1
  threshold           = var.failed_events_ratio_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "ratio"
    expression  = "IF((ok + failed) > 0, failed / (ok + failed), 0)"
    label       = "Failed events ratio"
    return_data = true
  }
  metric_query {
    id = "failed"
    metric {
      namespace   = "EventLogCheckpoint"
      metric_name = "EventsFailed"
      dimensions  = { service = local.service }
      period      = 3600
      stat        = "Sum"
    }
  }
  metric_query {
    id = "ok"
    metric {
      namespace   = "EventLogCheckpoint"
      metric_name = "NewEventsProcessed"
      dimensions  = { service = local.service }
      period      = 3600
      stat        = "Sum"
    }
  }
}

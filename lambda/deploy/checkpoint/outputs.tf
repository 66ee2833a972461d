output "function_name" {
  value = aws_lambda_function.this.function_name
}

output "function_arn" {
  value = aws_lambda_function.this.arn
}

output "role_arn" {
  value = aws_iam_role.this.arn
}

output "log_group" {
  value = aws_cloudwatch_log_group.this.name
}

output "checkpoint_location" {
  value = "s3://${local.checkpoint_bucket}/${var.checkpoint_key_template}"
}

output "event_queue_url" {
  value = var.enable_event_queue ? aws_sqs_queue.events[0].id : null
}

output "dead_letter_queue_url" {
  value = var.enable_event_queue ? aws_sqs_queue.dead_letters[0].id : null
}

output "alarm_names" {
  value = concat([
    aws_cloudwatch_metric_alarm.errors.alarm_name,
    aws_cloudwatch_metric_alarm.duration.alarm_name,
    aws_cloudwatch_metric_alarm.failed_events_ratio.alarm_name,
  ], aws_cloudwatch_metric_alarm.dead_letters[*].alarm_name)
}

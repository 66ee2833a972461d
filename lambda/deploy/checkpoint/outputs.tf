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

output "alarm_names" {
  value = [
    aws_cloudwatch_metric_alarm.errors.alarm_name,
    aws_cloudwatch_metric_alarm.duration.alarm_name,
    aws_cloudwatch_metric_alarm.failed_events_ratio.alarm_name,
  ]
}

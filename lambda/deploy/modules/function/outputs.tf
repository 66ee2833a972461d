output "function_name" {
  value = aws_lambda_function.this.function_name
}

output "function_arn" {
  value = aws_lambda_function.this.arn
}

output "role_arn" {
  value = aws_iam_role.this.arn
}

output "role_id" {
  value = aws_iam_role.this.id
}

output "log_group" {
  value = aws_cloudwatch_log_group.this.name
}

output "dead_letter_target_arn" {
  value = local.dead_letter_arn
}

output "alarm_names" {
  value = concat([
    aws_cloudwatch_metric_alarm.function["errors"].alarm_name,
    aws_cloudwatch_metric_alarm.function["duration"].alarm_name,
  ], module.async_failures_alarm[*].alarm_name)
}

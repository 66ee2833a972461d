output "function_name" {
  value = module.function.function_name
}

output "function_arn" {
  value = module.function.function_arn
}

output "role_arn" {
  value = module.function.role_arn
}

output "log_group" {
  value = module.function.log_group
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
  value = concat(module.function.alarm_names, [
    aws_cloudwatch_metric_alarm.failed_events_ratio.alarm_name,
  ], module.dead_letters_alarm[*].alarm_name)
}

output "async_dead_letter_arn" {
  description = "Where scheduled runs that failed every retry are kept."
  value       = module.function.dead_letter_target_arn
}

output "function_name" {
  value = module.function.function_name
}

output "function_arn" {
  value = module.function.function_arn
}

output "role_arn" {
  description = "Grant this role nothing more; ClickHouse's own S3 access is configured on the server (see the README)."
  value       = module.function.role_arn
}

output "log_group" {
  value = module.function.log_group
}

output "alarm_names" {
  value = module.function.alarm_names
}

output "async_dead_letter_arn" {
  description = "Where notifications that failed every retry are kept."
  value       = module.function.dead_letter_target_arn
}

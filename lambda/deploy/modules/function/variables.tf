# What differs between the two functions; everything else (role, logs,
# tracing, the dead-letter queue for asynchronous invocations, alarms) is
# built here the same way for both.

variable "function_name" {
  type = string
}

variable "description" {
  description = "What the function does, shown in the console."
  type        = string
  default     = ""
}

variable "package_path" {
  description = "Zip holding the binary as `bootstrap`."
  type        = string
}

variable "architecture" {
  type = string
}

variable "memory_mb" {
  type = number
}

variable "timeout_seconds" {
  type = number
}

variable "reserved_concurrency" {
  type = number
}

variable "ephemeral_storage_mb" {
  type    = number
  default = 512
}

variable "environment" {
  description = "The function's environment. Never a secret: secrets are named by ARN and read at start-up."
  type        = map(string)
}

variable "policy_json" {
  description = "The function's own permissions (an IAM policy document); logs, tracing, the dead-letter queue and the KMS key are added here."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the log group, the environment and the dead-letter queue (empty: AWS-managed keys). Its key policy must let logs.<region>.amazonaws.com use it."
  type        = string
  default     = ""
}

variable "log_retention_days" {
  type = number
}

variable "tracing" {
  description = "X-Ray active tracing."
  type        = bool
  default     = true
}

variable "subnet_ids" {
  type    = list(string)
  default = []
}

variable "security_group_ids" {
  type    = list(string)
  default = []
}

variable "dead_letter_target_arn" {
  description = "SQS queue or SNS topic for asynchronous invocations that failed every retry (empty: a queue is created)."
  type        = string
  default     = ""
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed asynchronous invocation (0 to 2)."
  type        = number
  default     = 2
}

variable "errors_alarm_description" {
  type = string
}

variable "duration_alarm_description" {
  type = string
}

variable "alarm_actions" {
  type    = list(string)
  default = []
}

variable "tags" {
  type    = map(string)
  default = {}
}

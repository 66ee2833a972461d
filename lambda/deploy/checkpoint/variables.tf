variable "function_name" {
  description = "Name of the checkpoint Lambda function."
  type        = string
  default     = "event-log-checkpoint"
}

variable "package_path" {
  description = "Path of the zip holding the checkpoint-bootstrap binary as `bootstrap` (scripts/package-lambda.sh builds it)."
  type        = string
}

variable "architecture" {
  description = "arm64 or x86_64; must match the package."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "source_bucket" {
  description = "Bucket the event files are written to."
  type        = string
}

variable "source_prefix" {
  description = "Prefix of the event files (e.g. prod/). Keep it non-empty in a shared bucket."
  type        = string
  default     = ""
}

variable "checkpoint_bucket" {
  description = "Bucket for checkpoints, ledger and errors files (empty: the source bucket)."
  type        = string
  default     = ""
}

variable "checkpoint_key_template" {
  description = "Checkpoint key; must contain {study} and {datatype}. The ledger lives under its fixed prefix, in _eventlog/."
  type        = string
  default     = "checkpoints/{study}/{datatype}/events.parquet"
}

variable "report_prefix" {
  description = "Where, in the checkpoint bucket, to write the monthly report (index.html and CSV files) after a run that committed something; empty: no report."
  type        = string
  default     = ""
}

variable "memory_mb" {
  type    = number
  default = 1024
}

variable "timeout_seconds" {
  type    = number
  default = 900
}

variable "ephemeral_storage_mb" {
  description = "Space in /tmp for checkpoint copies while merging (the largest checkpoint, twice)."
  type        = number
  default     = 2048
}

variable "reserved_concurrency" {
  description = "Reserved concurrency; -1 for unreserved. Concurrent runs are safe (conditional writes), one avoids wasted retries."
  type        = number
  default     = 1
}

variable "log_level" {
  type    = string
  default = "info"
}

variable "log_retention_days" {
  description = "Days the function's logs are kept (a year by default, as audits commonly ask)."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the logs, the environment and the queues (empty: AWS-managed keys). Its key policy must admit logs.<region>.amazonaws.com."
  type        = string
  default     = ""
}

variable "tracing" {
  description = "X-Ray active tracing of each invocation."
  type        = bool
  default     = true
}

variable "subnet_ids" {
  description = "Subnets to run in (empty: no VPC; the function needs only S3). The subnets need a route to S3 (gateway endpoint or NAT)."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  type    = list(string)
  default = []
}

variable "dead_letter_target_arn" {
  description = "SQS queue or SNS topic for scheduled runs that failed every retry (empty: a queue <function_name>-async-failures is created, with an alarm)."
  type        = string
  default     = ""
}

variable "schedule_expression" {
  description = "EventBridge schedule; empty to disable."
  type        = string
  default     = "cron(0 10 ? * FRI *)"
}

variable "enable_event_queue" {
  description = "Process new event files minutes after they land: S3 notifications into an SQS queue (with a dead-letter queue) read by the function in batches. The notification resource owns the bucket's whole notification configuration."
  type        = bool
  default     = false
}

variable "queue_batch_size" {
  description = "Notifications per invocation, up to 10 000 (above 10 a batch window is needed)."
  type        = number
  default     = 1000
  validation {
    condition     = var.queue_batch_size >= 1 && var.queue_batch_size <= 10000
    error_message = "queue_batch_size must be between 1 and 10000."
  }
}

variable "queue_batch_window_seconds" {
  description = "How long Lambda gathers notifications before invoking (0 to 300 seconds)."
  type        = number
  default     = 60
  validation {
    condition     = var.queue_batch_window_seconds >= 0 && var.queue_batch_window_seconds <= 300
    error_message = "queue_batch_window_seconds must be between 0 and 300."
  }
}

variable "queue_max_receive_count" {
  description = "Deliveries of a message before it goes to the dead-letter queue."
  type        = number
  default     = 5
}

variable "queue_max_concurrency" {
  description = "Concurrent invocations the queue may start (2 to 1000; 0 for no limit). Runs race safely, but fewer runs commit fewer conflicts."
  type        = number
  default     = 2
}

variable "max_files_per_run" {
  description = "Files one run takes at most (the rest are deferred to the next run), so a first backfill of millions fits the memory and the 15 minutes; 0 for no cap."
  type        = number
  default     = 100000
}

variable "alarm_actions" {
  description = "ARNs (e.g. an SNS topic) notified by the alarms."
  type        = list(string)
  default     = []
}

variable "failed_events_ratio_threshold" {
  description = "Alarm when more than this fraction of the files read in a run fail validation."
  type        = number
  default     = 0.05
}

variable "tags" {
  type    = map(string)
  default = {}
}

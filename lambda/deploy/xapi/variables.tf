variable "function_name" {
  description = "Name of the xAPI loader Lambda function."
  type        = string
  default     = "eventlog-xapi-loader"
}

variable "package_path" {
  description = "Zip holding the xapi-bootstrap binary as `bootstrap` (scripts/package-lambda.sh arm64 xapi-bootstrap builds it)."
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

variable "xapi_bucket" {
  description = "Bucket Torus writes the xAPI JSONL files to."
  type        = string
}

variable "xapi_prefix" {
  description = "Prefix of the statement files."
  type        = string
  default     = "section/"
}

variable "clickhouse_url" {
  description = "ClickHouse HTTP(S) interface, e.g. https://clickhouse.internal:8443."
  type        = string
}

variable "clickhouse_user" {
  type    = string
  default = "default"
}

variable "clickhouse_password_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the ClickHouse password (its SecretString, as is). The function reads it once per cold start; Terraform never sees the value. Empty: no password."
  type        = string
  default     = ""
}

variable "clickhouse_database" {
  type    = string
  default = "default"
}

variable "clickhouse_cluster" {
  description = "Cluster name when the tables are replicated + Distributed (eventlog xapi schema --cluster); empty for one server."
  type        = string
  default     = ""
}

variable "clickhouse_s3_auth" {
  description = "How ClickHouse reads S3 on the server-side path: named:<collection> (preferred), server, nosign or keys. Empty disables the server-side path (everything loads in-process)."
  type        = string
  default     = ""
}

variable "xapi_target" {
  description = "The tables the function loads: five-tables (the original ETL's) or raw-events (raw_events and experiment_attributions, what Torus reads today)."
  type        = string
  default     = "five-tables"
  validation {
    condition     = contains(["five-tables", "raw-events"], var.xapi_target)
    error_message = "xapi_target must be five-tables or raw-events."
  }
}

variable "source_queue_arn" {
  description = "SQS queue of S3 notifications to read in batches (ReportBatchItemFailures), as Torus deploys the raw-events loader; empty: none."
  type        = string
  default     = ""
}

variable "queue_batch_size" {
  type    = number
  default = 50
}

variable "queue_batching_window_seconds" {
  type    = number
  default = 60
}

variable "queue_max_concurrency" {
  description = "Concurrent batches at most (bounds the insert load on ClickHouse)."
  type        = number
  default     = 2
}

variable "failure_dlq_url" {
  description = "SQS queue URL that messages whose objects cannot load are copied to, with the reason (raw-events; FAILURE_DLQ_URL). Empty: they are left to the source queue's redrive policy."
  type        = string
  default     = ""
}

variable "failure_dlq_arn" {
  description = "The ARN of failure_dlq_url, for the function's permission to send to it."
  type        = string
  default     = ""
}

variable "server_side_threshold" {
  description = "Files per invocation above which the server-side path is used."
  type        = number
  default     = 10
}

variable "memory_mb" {
  description = "The in-process path holds one batch per table (5 000 rows), not whole files."
  type        = number
  default     = 512
}

variable "timeout_seconds" {
  type    = number
  default = 900
}

variable "reserved_concurrency" {
  description = "Concurrent loads at most (-1: unreserved). Bounds the insert load on ClickHouse."
  type        = number
  default     = 10
}

variable "subnet_ids" {
  description = "Subnets to run in when ClickHouse is only reachable inside a VPC (empty: no VPC). The subnets need a route to S3 (gateway endpoint or NAT)."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  type    = list(string)
  default = []
}

variable "enable_s3_trigger" {
  description = "Invoke the function for every new .jsonl file under the prefix."
  type        = bool
  default     = true
}

variable "failure_destination_arn" {
  description = "SQS queue or SNS topic for notifications that still failed after Lambda's retries (empty: a queue <function_name>-async-failures is created, with an alarm)."
  type        = string
  default     = ""
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
  description = "Customer-managed KMS key for the logs, the environment and the dead-letter queue (empty: AWS-managed keys). Its key policy must admit logs.<region>.amazonaws.com."
  type        = string
  default     = ""
}

variable "tracing" {
  description = "X-Ray active tracing of each invocation."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "SNS topic ARNs notified by the alarms."
  type        = list(string)
  default     = []
}

variable "tags" {
  type    = map(string)
  default = {}
}

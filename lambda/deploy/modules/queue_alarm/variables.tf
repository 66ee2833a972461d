variable "alarm_name" {
  description = "Name of the alarm."
  type        = string
}

variable "alarm_description" {
  description = "What a message in the queue means, and where to look."
  type        = string
}

variable "queue_name" {
  description = "The queue that should stay empty."
  type        = string
}

variable "alarm_actions" {
  description = "ARNs notified when the alarm fires."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for the alarm."
  type        = map(string)
  default     = {}
}

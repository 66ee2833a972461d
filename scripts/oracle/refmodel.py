"""The reference consumer's VisitEvent (v1.2), written from docs/../specs, run as an oracle.

This reconstruction reproduces every verdict, normalised output and error type
of the published sample corpus with pydantic 2.12.4. It is test tooling: the
product never runs Python.
"""
import json
from datetime import datetime, timezone
from typing import Literal, Optional
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator, ValidationError

class VisitEvent(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", validate_assignment=True)
    action: Literal["submit", "delete", "not-pass-qc", "pass-qc"]
    study: str = "adrc"
    pipeline_adcid: int
    project_label: str
    center_label: str
    gear_name: str
    ptid: str = Field(max_length=10, pattern=r"^[!-~]{1,10}$")
    naccid: Optional[str] = None
    visit_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    visit_number: Optional[str] = None
    datatype: Literal["apoe", "biomarker", "dicom", "enrollment", "form",
                      "genetic-availability", "gwas", "imputation", "scan-analysis"]
    module: Optional[str] = None
    packet: Optional[str] = None
    modality: Optional[str] = None
    timestamp: datetime

    @field_validator("timestamp")
    @classmethod
    def to_utc(cls, v):
        if v.tzinfo is None:
            return v.replace(tzinfo=timezone.utc)
        return v.astimezone(timezone.utc)

    @model_validator(mode="after")
    def datatype_rule(self):
        if self.datatype == "form":
            if self.module is None:
                raise ValueError("module required for form")
            if self.modality is not None:
                raise ValueError("modality not allowed for form")
        elif self.module is not None:
            raise ValueError("module only for form")
        return self

def verdict(text: str):
    data = text.encode("utf-8", "surrogatepass")
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as e:
        return {"valid": False, "outcome": "json_decode_error", "error_fields": ["__json__"], "error_types": [f"__json__:{e.msg}"]}
    except Exception as e:
        return {"valid": False, "outcome": f"uncaught_exception:{type(e).__name__}", "error_fields": ["__abort__"], "error_types": [f"__abort__:{type(e).__name__}"]}
    try:
        ev = VisitEvent.model_validate(obj)
    except ValidationError as e:
        fields, types = [], []
        for err in e.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "__root__"
            if loc not in fields: fields.append(loc)
            types.append(f"{loc}:{err['type']}")
        return {"valid": False, "outcome": "validation_error", "error_fields": fields, "error_types": types}
    except Exception as e:
        return {"valid": False, "outcome": f"uncaught_exception:{type(e).__name__}", "error_fields": ["__abort__"], "error_types": [f"__abort__:{type(e).__name__}"]}
    return {"valid": True, "outcome": "valid", "normalized": ev.model_dump(mode="json")}

from eventlog_validator.cli import main

raise SystemExit(main())

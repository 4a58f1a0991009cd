"""Operations on a running pipeline that SREs drive from the CLI: dead-letter re-drive."""

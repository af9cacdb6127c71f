#!/usr/bin/env bash
# with_s3rver.sh PROGRAM [ARGS...]: run PROGRAM against a throwaway s3rver
# (start_s3rver of tests/harness/doubles.sh: a free port, a data folder in
# the harness's temp folder, stopped at exit), with what the S3 fixture of
# tests/unit/test_storage_conformance/fixtures.c reads:
#   DRCTL_TEST_S3_ENDPOINT  DRCTL_TEST_S3_BUCKET  DRCTL_TEST_S3RVER_DIR
#   AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  AWS_REGION
# CTest runs unit/test_storage_conformance through it; by hand:
#   bash tests/harness/with_s3rver.sh build/tests/test_storage_conformance
# Exits with PROGRAM's status.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: with_s3rver.sh PROGRAM [ARGS...]" >&2; exit 2; }
. "$(dirname "${BASH_SOURCE[0]}")/services.sh"
harness_init
declare -F start_s3rver >/dev/null ||
	{ echo "FAIL: tests/harness/doubles.sh has no start_s3rver (the s3rver harness): cannot start a test S3 server" >&2; exit 1; }
start_s3rver drctl-conformance
export DRCTL_TEST_S3_ENDPOINT=$S3RVER_URL DRCTL_TEST_S3_BUCKET=$S3RVER_BUCKET DRCTL_TEST_S3RVER_DIR=$S3RVER_DIR
export AWS_ACCESS_KEY_ID=$S3RVER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3RVER_SECRET_KEY AWS_REGION=us-east-1
# Nothing from this machine's AWS setup reaches the test.
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE
rc=0
"$@" || rc=$?
exit "$rc"

#!/usr/bin/env bash
# with_s3_double.sh PROGRAM [ARGS...]: run PROGRAM against a throwaway S3
# double (tests/doubles/s3, start_s3_double of tests/harness/doubles.sh)
# serving HTTPS with the harness's test CA and verifying every request's
# SigV4 signature (a fresh key id and secret), with what the S3 fixture of
# tests/unit/test_storage_conformance/fixtures.c reads:
#   DRCTL_TEST_S3_ENDPOINT  DRCTL_TEST_S3_BUCKET  DRCTL_TEST_S3_CA_FILE
#   DRCTL_TEST_STORAGE_FIXTURE=s3 (the local fixture runs in the s3rver run)
#   AWS_ACCESS_KEY_ID  AWS_SECRET_ACCESS_KEY  AWS_REGION
# CTest runs unit/test_storage_conformance_s3_double through it; by hand:
#   bash tests/harness/with_s3_double.sh build/tests/test_storage_conformance
# Exits with PROGRAM's status.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: with_s3_double.sh PROGRAM [ARGS...]" >&2; exit 2; }
. "$(dirname "${BASH_SOURCE[0]}")/services.sh"
harness_init
start_s3_double --tls --bucket drctl-conformance
export DRCTL_TEST_S3_ENDPOINT=$S3_DOUBLE_URL DRCTL_TEST_S3_BUCKET=$S3_DOUBLE_BUCKET DRCTL_TEST_S3_CA_FILE=$S3_DOUBLE_CACERT
export DRCTL_TEST_STORAGE_FIXTURE=s3
# Nothing from this machine's AWS setup reaches the test.
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_CA_BUNDLE
unset DRCTL_TEST_S3RVER_DIR
rc=0
"$@" || rc=$?
exit "$rc"

/*
 * aws_credentials: the keys, region and endpoint of an S3-compatible
 * repository, taken where the AWS CLI and SDKs take them
 * (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-files.html
 * and cli-configure-envvars.html), plus drctl's own files for Kubernetes
 * Secret mounts.
 *
 * Credentials, first source that has them wins (the sources are not mixed):
 *   1. [repository] access_key_id_file, secret_access_key_file and
 *      session_token_file (or DRCTL_REPOSITORY_*_FILE): files of mode 0600;
 *   2. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   3. the shared credentials file, $AWS_SHARED_CREDENTIALS_FILE or
 *      ~/.aws/credentials (mode 0600), profile $AWS_PROFILE or "default":
 *      aws_access_key_id, aws_secret_access_key, aws_session_token.
 * Region: [repository] region, AWS_REGION, AWS_DEFAULT_REGION, the profile's
 * region in the config file ($AWS_CONFIG_FILE or ~/.aws/config: [default] or
 * [profile NAME]), else us-east-1.
 * Endpoint: [repository] endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
 * (both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else none
 * (AWS's own endpoint for the region).
 * Empty variables count as unset.
 *
 * Errors name the source (the file and the key, or the variable), never a
 * secret's value: no credentials at all is EXIT_NOT_FOUND with a hint listing
 * the ways to give them; a file readable by others, or a value that cannot
 * be sent, is EXIT_USAGE.
 */
#ifndef DRCTL_AWS_CREDENTIALS_H
#define DRCTL_AWS_CREDENTIALS_H

#include <stddef.h>

#include "lib/core/config.h"
#include "lib/core/error.h"

struct aws_credentials {
	char *access_key_id;        /* AKIA...; not a secret: errors about the credentials name it; not logged otherwise */
	char *secret_access_key;    /* secret */
	char *session_token;        /* secret; NULL when the keys are long-term ones */
	/* Where they came from, for -v and messages, e.g. "environment
	 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)" or
	 * "/root/.aws/credentials [default]"; never a secret. */
	char source[4400];
};

/* Find the credentials (see above).  Fills out (cleared first); on error out
 * holds nothing.  Release with aws_credentials_clear. */
int aws_credentials_load(const struct config *cfg, struct aws_credentials *out,
			 struct drctl_error *err);
/* Wipe and free what aws_credentials_load filled. */
void aws_credentials_clear(struct aws_credentials *cred);

/* A resolved setting and where it came from. */
struct aws_setting {
	char value[1024];   /* "" when nothing gave one (the endpoint: use AWS's) */
	char source[4400];   /* "[repository] region", "AWS_REGION", "/root/.aws/config [default]", "default" */
};

/* The region (see above); a value with characters a region cannot have is
 * EXIT_USAGE naming its source. */
int aws_region_resolve(const struct config *cfg, struct aws_setting *out, struct drctl_error *err);
/* The endpoint URL (see above), "" for AWS's own; it must be http:// or
 * https:// with a host, else EXIT_USAGE naming its source. */
int aws_endpoint_resolve(const struct config *cfg, struct aws_setting *out, struct drctl_error *err);

#endif

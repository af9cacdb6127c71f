/*
 * The XML reader (lib/format/xml) and the S3 answers read with it
 * (lib/clients/s3_xml.c), on the examples of the Amazon S3 API Reference:
 *   ListObjectsV2           https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 *   ListObjects (delimiter) https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html
 *   Error responses         https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
 *   CreateMultipartUpload   https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
 *   CompleteMultipartUpload https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
 *   ListMultipartUploads    https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html
 * and on what XML 1.0 (https://www.w3.org/TR/xml/) says a reader must do
 * and refuse: entities, character references, CDATA, line ends, DOCTYPE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/clients/s3.h"
#include "lib/format/xml.h"

/* --- the examples ------------------------------------------------------------------- */

static const char list_v2_example[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"    <Name>bucket</Name>\n"
	"    <Prefix/>\n"
	"    <KeyCount>205</KeyCount>\n"
	"    <MaxKeys>1000</MaxKeys>\n"
	"    <IsTruncated>false</IsTruncated>\n"
	"    <Contents>\n"
	"        <Key>my-image.jpg</Key>\n"
	"        <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
	"        <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>\n"
	"        <Size>434234</Size>\n"
	"        <StorageClass>STANDARD</StorageClass>\n"
	"    </Contents>\n"
	"    <Contents>\n"
	"        <Key>my-third-image.jpg</Key>\n"
	"        <LastModified>2009-10-12T17:50:30.000Z</LastModified>\n"
	"        <ETag>&quot;1b2cf535f27731c974343645a3985328&quot;</ETag>\n"
	"        <Size>64994</Size>\n"
	"        <StorageClass>STANDARD_IA</StorageClass>\n"
	"    </Contents>\n"
	"</ListBucketResult>\n";

static const char list_v2_continued_example[] =
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"  <Name>bucket</Name>\n"
	"  <Prefix></Prefix>\n"
	"  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>\n"
	"  <KeyCount>1000</KeyCount>\n"
	"  <MaxKeys>1000</MaxKeys>\n"
	"  <IsTruncated>true</IsTruncated>\n"
	"  <Contents>\n"
	"    <Key>happyface.jpg</Key>\n"
	"    <LastModified>2014-11-21T19:40:05.000Z</LastModified>\n"
	"    <ETag>\"70ee1738b6b21e2c8a43f3a5ab0eee71\"</ETag>\n"
	"    <Size>11</Size>\n"
	"    <StorageClass>STANDARD</StorageClass>\n"
	"  </Contents>\n"
	"</ListBucketResult>\n";

static const char list_delimiter_example[] =
	"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"  <Name>example-bucket</Name>\n"
	"  <Prefix>photos/2006/</Prefix>\n"
	"  <KeyCount>2</KeyCount>\n"
	"  <MaxKeys>1000</MaxKeys>\n"
	"  <Delimiter>/</Delimiter>\n"
	"  <IsTruncated>false</IsTruncated>\n"
	"  <CommonPrefixes>\n"
	"    <Prefix>photos/2006/February/</Prefix>\n"
	"  </CommonPrefixes>\n"
	"  <CommonPrefixes>\n"
	"    <Prefix>photos/2006/January/</Prefix>\n"
	"  </CommonPrefixes>\n"
	"</ListBucketResult>\n";

static const char error_example[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<Error>\n"
	"  <Code>NoSuchKey</Code>\n"
	"  <Message>The resource you requested does not exist</Message>\n"
	"  <Resource>/mybucket/myfoto.jpg</Resource> \n"
	"  <RequestId>4442587FB7D0A2F9</RequestId>\n"
	"</Error>\n";

static const char initiate_example[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"  <Bucket>example-bucket</Bucket>\n"
	"  <Key>example-object</Key>\n"
	"  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\n"
	"</InitiateMultipartUploadResult>\n";

static const char complete_example[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"  <Location>http://Example-Bucket.s3.region.amazonaws.com/Example-Object</Location>\n"
	"  <Bucket>Example-Bucket</Bucket>\n"
	"  <Key>Example-Object</Key>\n"
	"  <ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag>\n"
	"</CompleteMultipartUploadResult>\n";

/* The documentation's 200 OK whose body is an error (after the
 * whitespace AWS sends while it assembles the object). */
static const char complete_error_example[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"\n"
	"<Error>\n"
	"<Code>InternalError</Code>\n"
	"<Message>We encountered an internal error. Please try again.</Message>\n"
	"<RequestId>656c76696e6727732072657175657374</RequestId>\n"
	"<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>\n"
	"</Error>\n";

static const char list_uploads_example[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
	"  <Bucket>bucket</Bucket>\n"
	"  <KeyMarker></KeyMarker>\n"
	"  <UploadIdMarker></UploadIdMarker>\n"
	"  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>\n"
	"  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>\n"
	"  <MaxUploads>3</MaxUploads>\n"
	"  <IsTruncated>true</IsTruncated>\n"
	"  <Upload>\n"
	"    <Key>my-divisor</Key>\n"
	"    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>\n"
	"    <Initiator>\n"
	"      <ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID>\n"
	"      <DisplayName>user1-11111a31-17b5-4fb7-9df5-b111111f13de</DisplayName>\n"
	"    </Initiator>\n"
	"    <Owner>\n"
	"      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>\n"
	"      <DisplayName>OwnerDisplayName</DisplayName>\n"
	"    </Owner>\n"
	"    <StorageClass>STANDARD</StorageClass>\n"
	"    <Initiated>2010-11-10T20:48:33.000Z</Initiated>\n"
	"  </Upload>\n"
	"  <Upload>\n"
	"    <Key>my-movie.m2ts</Key>\n"
	"    <UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>\n"
	"    <Initiator>\n"
	"      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>\n"
	"      <DisplayName>InitiatorDisplayName</DisplayName>\n"
	"    </Initiator>\n"
	"    <Owner>\n"
	"      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>\n"
	"      <DisplayName>OwnerDisplayName</DisplayName>\n"
	"    </Owner>\n"
	"    <StorageClass>STANDARD</StorageClass>\n"
	"    <Initiated>2010-11-10T20:48:33.000Z</Initiated>\n"
	"  </Upload>\n"
	"  <Upload>\n"
	"    <Key>my-movie.m2ts</Key>\n"
	"    <UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>\n"
	"    <Initiator>\n"
	"      <ID>arn:aws:iam::444455556666:user/user1-22222a31-17b5-4fb7-9df5-b222222f13de</ID>\n"
	"      <DisplayName>user1-22222a31-17b5-4fb7-9df5-b222222f13de</DisplayName>\n"
	"    </Initiator>\n"
	"    <Owner>\n"
	"      <ID>b1d16700c70b0b05597d7acd6a3f92be</ID>\n"
	"      <DisplayName>OwnerDisplayName</DisplayName>\n"
	"    </Owner>\n"
	"    <StorageClass>STANDARD</StorageClass>\n"
	"    <Initiated>2008-11-10T20:49:33.000Z</Initiated>\n"
	"  </Upload>\n"
	"</ListMultipartUploadsResult>\n";

/* --- helpers ----------------------------------------------------------------------- */

static struct xml_doc *parse_ok(const char *text)
{
	struct drctl_error err;
	struct xml_doc *doc = NULL;

	err_clear(&err);
	if (xml_parse(text, strlen(text), &doc, &err) != 0)
		fail_msg("xml_parse refused a well-formed document (%s):\n%s", err.message, text);
	return doc;
}

static void parse_refused(const char *text, const char *why)
{
	struct drctl_error err;
	struct xml_doc *doc = NULL;

	err_clear(&err);
	if (xml_parse(text, strlen(text), &doc, &err) == 0) {
		xml_free(doc);
		fail_msg("xml_parse accepts %s: \"%s\"", why, text);
	}
	assert_null(doc);
	assert_int_equal(err.code, EXIT_FAILED);
	if (!strstr(err.message, "XML"))
		fail_msg("the refusal of %s does not say it is about XML: \"%s\"", why, err.message);
}

/* --- the S3 answers ---------------------------------------------------------------------- */

static void list_objects_v2_example_is_read(void **state)
{
	struct drctl_error err;
	struct s3_list_page page;

	(void)state;
	err_clear(&err);
	assert_int_equal(s3_parse_list_objects(list_v2_example, strlen(list_v2_example), &page, &err), 0);
	assert_int_equal(page.n_keys, 2);
	assert_string_equal(page.keys[0], "my-image.jpg");
	assert_string_equal(page.keys[1], "my-third-image.jpg");
	assert_int_equal(page.n_prefixes, 0);
	assert_false(page.truncated);
	assert_null(page.next_token);
	s3_list_page_free(&page);

	assert_int_equal(s3_parse_list_objects(list_v2_continued_example, strlen(list_v2_continued_example), &page, &err), 0);
	assert_true(page.truncated);
	assert_string_equal(page.next_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
	assert_int_equal(page.n_keys, 1);
	assert_string_equal(page.keys[0], "happyface.jpg");
	s3_list_page_free(&page);

	assert_int_equal(s3_parse_list_objects(list_delimiter_example, strlen(list_delimiter_example), &page, &err), 0);
	assert_int_equal(page.n_keys, 0);
	assert_int_equal(page.n_prefixes, 2);
	assert_string_equal(page.prefixes[0], "photos/2006/February/");
	assert_string_equal(page.prefixes[1], "photos/2006/January/");
	s3_list_page_free(&page);
}

/* Keys as S3 escapes them, and as drctl names objects (spaces kept). */
static void listed_keys_are_decoded_exactly(void **state)
{
	static const char doc[] =
		"<ListBucketResult><IsTruncated>false</IsTruncated>"
		"<Contents><Key>odd/amp&amp;dollar$</Key></Contents>"
		"<Contents><Key>odd/quote&apos;single&quot;double</Key></Contents>"
		"<Contents><Key>odd/&lt;angle&gt;</Key></Contents>"
		"<Contents><Key> with spaces </Key></Contents>"
		"<Contents><Key>caf&#xE9; &#21517;&#x524D; &#x1F4E6;</Key></Contents>"
		"<Contents><Key><![CDATA[cdata & <raw>]]></Key></Contents>"
		"</ListBucketResult>";
	struct drctl_error err;
	struct s3_list_page page;

	(void)state;
	err_clear(&err);
	assert_int_equal(s3_parse_list_objects(doc, strlen(doc), &page, &err), 0);
	assert_int_equal(page.n_keys, 6);
	assert_string_equal(page.keys[0], "odd/amp&dollar$");
	assert_string_equal(page.keys[1], "odd/quote'single\"double");
	assert_string_equal(page.keys[2], "odd/<angle>");
	assert_string_equal(page.keys[3], " with spaces ");
	assert_string_equal(page.keys[4], "caf\xc3\xa9 \xe5\x90\x8d\xe5\x89\x8d \xf0\x9f\x93\xa6");
	assert_string_equal(page.keys[5], "cdata & <raw>");
	s3_list_page_free(&page);
}

static void a_listing_that_is_not_one_is_refused(void **state)
{
	static const char no_token[] = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
	static const char no_key[] = "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>";
	struct drctl_error err;
	struct s3_list_page page;

	(void)state;
	err_clear(&err);
	assert_int_equal(s3_parse_list_objects(error_example, strlen(error_example), &page, &err), -1);
	assert_non_null(strstr(err.message, "<Error>"));
	err_clear(&err);
	assert_int_equal(s3_parse_list_objects(no_token, strlen(no_token), &page, &err), -1);
	assert_non_null(strstr(err.message, "NextContinuationToken"));
	err_clear(&err);
	assert_int_equal(s3_parse_list_objects(no_key, strlen(no_key), &page, &err), -1);
	err_clear(&err);
	assert_int_equal(s3_parse_list_objects("<ListBucketResult>", 18, &page, &err), -1);
	assert_int_equal(page.n_keys, 0);
}

static void error_example_is_read(void **state)
{
	struct s3_error_body e;

	(void)state;
	assert_int_equal(s3_parse_error(error_example, strlen(error_example), &e), 1);
	assert_string_equal(e.code, "NoSuchKey");
	assert_string_equal(e.message, "The resource you requested does not exist");
	assert_string_equal(e.request_id, "4442587FB7D0A2F9");
	/* Not an error document: nothing. */
	assert_int_equal(s3_parse_error(initiate_example, strlen(initiate_example), &e), 0);
	assert_string_equal(e.code, "");
	assert_int_equal(s3_parse_error("Service Unavailable", 19, &e), 0);
	assert_int_equal(s3_parse_error(NULL, 0, &e), 0);
	assert_int_equal(s3_parse_error("<Error><Code>SlowDown</Code></Error>", 36, &e), 1);
	assert_string_equal(e.code, "SlowDown");
	assert_string_equal(e.message, "");
}

static void initiate_example_is_read(void **state)
{
	static const char no_id[] = "<InitiateMultipartUploadResult><Bucket>b</Bucket></InitiateMultipartUploadResult>";
	struct drctl_error err;
	char *id = NULL;

	(void)state;
	err_clear(&err);
	assert_int_equal(s3_parse_initiate(initiate_example, strlen(initiate_example), &id, &err), 0);
	assert_string_equal(id, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
	free(id);
	assert_int_equal(s3_parse_initiate(no_id, strlen(no_id), &id, &err), -1);
	assert_null(id);
	assert_non_null(strstr(err.message, "UploadId"));
	err_clear(&err);
	assert_int_equal(s3_parse_initiate(error_example, strlen(error_example), &id, &err), -1);
	assert_null(id);
}

/* GetObjectLockConfiguration's answers (the API Reference's response
 * syntax): enabled with or without a rule, a document without
 * ObjectLockEnabled, and what is no such document. */
static void object_lock_configuration_is_read(void **state)
{
	static const char enabled[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<ObjectLockEnabled>Enabled</ObjectLockEnabled>"
		"<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule>"
		"</ObjectLockConfiguration>";
	static const char bare[] = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>";
	static const char rule_only[] =
		"<ObjectLockConfiguration><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>";
	static const char other_value[] = "<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>";
	static const char listing[] = "<ListBucketResult><Name>b</Name></ListBucketResult>";
	struct drctl_error err;

	(void)state;
	err_clear(&err);
	assert_int_equal(s3_parse_object_lock_config(enabled, strlen(enabled), &err), 1);
	assert_int_equal(s3_parse_object_lock_config(bare, strlen(bare), &err), 1);
	assert_int_equal(s3_parse_object_lock_config(rule_only, strlen(rule_only), &err), 0);
	assert_int_equal(s3_parse_object_lock_config(other_value, strlen(other_value), &err), 0);
	assert_int_equal(s3_parse_object_lock_config(listing, strlen(listing), &err), -1);
	assert_non_null(strstr(err.message, "ObjectLockConfiguration"));
	err_clear(&err);
	assert_int_equal(s3_parse_object_lock_config(error_example, strlen(error_example), &err), -1);
	err_clear(&err);
	assert_int_equal(s3_parse_object_lock_config("", 0, &err), -1);
}

static void complete_example_and_its_error_in_a_200_are_told_apart(void **state)
{
	struct drctl_error err;
	struct s3_error_body e;
	char etag[S3_ETAG_MAX];

	(void)state;
	err_clear(&err);
	assert_int_equal(s3_parse_complete(complete_example, strlen(complete_example), etag, &e, &err), 1);
	assert_string_equal(etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
	assert_int_equal(s3_parse_complete(complete_error_example, strlen(complete_error_example), etag, &e, &err), 0);
	assert_string_equal(e.code, "InternalError");
	assert_string_equal(e.message, "We encountered an internal error. Please try again.");
	assert_string_equal(e.request_id, "656c76696e6727732072657175657374");
	assert_string_equal(etag, "");
	/* Neither a result nor an error; an answer cut short. */
	assert_int_equal(s3_parse_complete(initiate_example, strlen(initiate_example), etag, &e, &err), -1);
	err_clear(&err);
	assert_int_equal(s3_parse_complete(complete_example, strlen(complete_example) / 2, etag, &e, &err), -1);
	err_clear(&err);
	assert_int_equal(s3_parse_complete("   \n  ", 6, etag, &e, &err), -1);
}

static void list_uploads_example_is_read(void **state)
{
	struct drctl_error err;
	struct s3_uploads_page page;

	(void)state;
	err_clear(&err);
	assert_int_equal(s3_parse_list_uploads(list_uploads_example, strlen(list_uploads_example), &page, &err), 0);
	assert_int_equal(page.n, 3);
	assert_string_equal(page.uploads[0].key, "my-divisor");
	assert_string_equal(page.uploads[0].upload_id, "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
	assert_int_equal(page.uploads[0].initiated, 1289422113);
	assert_string_equal(page.uploads[1].key, "my-movie.m2ts");
	assert_string_equal(page.uploads[2].upload_id, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
	assert_int_equal(page.uploads[2].initiated, 1226350173);
	assert_true(page.truncated);
	assert_string_equal(page.next_key_marker, "my-movie.m2ts");
	assert_string_equal(page.next_upload_id_marker, "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
	s3_uploads_page_free(&page);
	assert_int_equal(s3_parse_list_uploads(list_v2_example, strlen(list_v2_example), &page, &err), -1);
	assert_int_equal(page.n, 0);
}

static void times_and_multipart_etags(void **state)
{
	struct s3_part parts[2];
	char etag[S3_ETAG_MAX];
	time_t t;

	(void)state;
	assert_int_equal(s3_parse_time("2010-11-10T20:48:33.000Z", &t), 0);
	assert_int_equal(t, 1289422113);
	assert_int_equal(s3_parse_time("2010-11-10T20:48:33Z", &t), 0);
	assert_int_equal(t, 1289422113);
	assert_int_equal(s3_parse_time("2010-11-10T20:48:33.123456+00:00", &t), 0);
	assert_int_equal(t, 1289422113);
	assert_int_equal(s3_parse_time("2010-11-10T20:48:33.000", &t), -1);   /* no zone */
	assert_int_equal(s3_parse_time("2010-13-10T20:48:33.000Z", &t), -1);  /* month 13 */
	assert_int_equal(s3_parse_time("yesterday", &t), -1);
	/* The ETag of a multipart object: MD5 of the parts' MD5s, "-", their count. */
	memset(parts, 0, sizeof(parts));
	memcpy(parts[0].md5, "\x5d\x41\x40\x2a\xbc\x4b\x2a\x76\xb9\x71\x9d\x91\x10\x17\xc5\x92", 16); /* md5("hello") */
	memcpy(parts[1].md5, "\x7d\x79\x30\x37\xa0\x76\x01\x86\x57\x4b\x02\x82\xf2\xf4\x35\xe7", 16); /* md5("world") */
	s3_multipart_etag(parts, 2, etag);
	assert_string_equal(etag, "\"065947336a2f2a95ba8899f3675c3be6-2\"");
}

/* --- the reader itself -------------------------------------------------------------------- */

static void structure_names_text_and_namespaces(void **state)
{
	static const char doc[] =
		"\xef\xbb\xbf<?xml version='1.0'?>\r\n<!-- a comment -->\n"
		"<s3:Root xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\" a='x>y' b = \"1\">"
		"<s3:A>one</s3:A><B/><A >two</A ><?pi inside?><!-- c --><C>line1\r\nline2\rline3</C>"
		"<D>  spaced  </D><E>a<!-- split -->b</E><F><G>deep</G></F>"
		"</s3:Root>\n<!-- after -->\n";
	struct xml_doc *d = parse_ok(doc);
	const struct xml_node *root = xml_root(d), *a;

	(void)state;
	assert_string_equal(xml_name(root), "Root");
	a = xml_child(root, "A");
	assert_string_equal(xml_text(a), "one");
	assert_string_equal(xml_text(xml_next(a, "A")), "two");
	assert_null(xml_next(xml_next(a, "A"), "A"));
	assert_string_equal(xml_child_text(root, "B"), "");
	assert_null(xml_child_text(root, "Missing"));
	assert_string_equal(xml_child_text(root, "C"), "line1\nline2\nline3");
	assert_string_equal(xml_child_text(root, "D"), "  spaced  ");
	assert_string_equal(xml_child_text(root, "E"), "ab");
	assert_string_equal(xml_child_text(xml_child(root, "F"), "G"), "deep");
	assert_string_equal(xml_text(xml_child(root, "F")), ""); /* an element with children has no text */
	assert_string_equal(xml_name(xml_child(root, NULL)), "A");
	xml_free(d);
}

static void malformed_documents_are_refused(void **state)
{
	(void)state;
	parse_refused("", "an empty document");
	parse_refused("   \n", "whitespace only");
	parse_refused("<a>", "an unclosed root");
	parse_refused("<a></b>", "an end tag that does not match");
	parse_refused("<a><b></a></b>", "crossed elements");
	parse_refused("<a/><b/>", "two roots");
	parse_refused("<a/>trailing", "text after the root");
	parse_refused("text<a/>", "text before the root");
	parse_refused("<a>&unknown;</a>", "an unknown entity");
	parse_refused("<a>&amp</a>", "a reference without ';'");
	parse_refused("<a>&#0;</a>", "a reference to NUL");
	parse_refused("<a>&#xD800;</a>", "a reference to a surrogate");
	parse_refused("<a>&#x110000;</a>", "a reference beyond U+10FFFF");
	parse_refused("<a>&#12a;</a>", "a decimal reference with a letter");
	parse_refused("<a>\x01</a>", "a control character");
	parse_refused("<a b=c/>", "an attribute without quotes");
	parse_refused("<a b=\"c/>", "an unclosed attribute value");
	parse_refused("<a><!-- open </a>", "an unclosed comment");
	parse_refused("<a><![CDATA[open</a>", "an unclosed CDATA section");
	parse_refused("< a/>", "a tag without a name");
	parse_refused("<a></a", "an unclosed end tag");
	parse_refused("<1a/>", "a name starting with a digit");
}

/* No DTD is read: nothing can define an entity, so nothing can expand. */
static void a_doctype_is_refused(void **state)
{
	(void)state;
	parse_refused("<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><lolz>&lol2;</lolz>",
		      "a DOCTYPE with entities");
	parse_refused("<?xml version=\"1.0\"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><foo>&xxe;</foo>",
		      "an external entity");
	parse_refused("<a><!ELEMENT a ANY></a>", "a markup declaration inside an element");
}

static void nesting_is_bounded(void **state)
{
	char deep[(XML_DEPTH_MAX + 1) * 7 + 8], ok[XML_DEPTH_MAX * 7 + 8];
	size_t n = 0, m = 0;
	struct xml_doc *d;

	(void)state;
	for (int i = 0; i <= XML_DEPTH_MAX; i++)
		n += (size_t)sprintf(deep + n, "<a>");
	for (int i = 0; i <= XML_DEPTH_MAX; i++)
		n += (size_t)sprintf(deep + n, "</a>");
	parse_refused(deep, "elements nested deeper than XML_DEPTH_MAX");
	for (int i = 0; i < XML_DEPTH_MAX; i++)
		m += (size_t)sprintf(ok + m, "<a>");
	for (int i = 0; i < XML_DEPTH_MAX; i++)
		m += (size_t)sprintf(ok + m, "</a>");
	d = parse_ok(ok);
	xml_free(d);
}

/* Every proper prefix of a document is refused (a body cut short never
 * reads as a shorter answer); the whole is accepted. */
static void every_truncation_is_refused(void **state)
{
	const char *docs[] = { list_v2_example, complete_example, list_uploads_example, error_example };

	(void)state;
	for (size_t k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
		size_t len = strlen(docs[k]), end = len;
		/* Up to the root's end tag; what follows it is whitespace. */
		while (end > 0 && docs[k][end - 1] != '>')
			end--;
		for (size_t i = 0; i < end; i++) {
			struct drctl_error err;
			struct xml_doc *d = NULL;
			err_clear(&err);
			if (xml_parse(docs[k], i, &d, &err) == 0) {
				xml_free(d);
				fail_msg("example %zu cut to %zu of %zu bytes is accepted", k, i, len);
			}
		}
		xml_free(parse_ok(docs[k]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_objects_v2_example_is_read),
		cmocka_unit_test(listed_keys_are_decoded_exactly),
		cmocka_unit_test(a_listing_that_is_not_one_is_refused),
		cmocka_unit_test(error_example_is_read),
		cmocka_unit_test(initiate_example_is_read),
		cmocka_unit_test(object_lock_configuration_is_read),
		cmocka_unit_test(complete_example_and_its_error_in_a_200_are_told_apart),
		cmocka_unit_test(list_uploads_example_is_read),
		cmocka_unit_test(times_and_multipart_etags),
		cmocka_unit_test(structure_names_text_and_namespaces),
		cmocka_unit_test(malformed_documents_are_refused),
		cmocka_unit_test(a_doctype_is_refused),
		cmocka_unit_test(nesting_is_bounded),
		cmocka_unit_test(every_truncation_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

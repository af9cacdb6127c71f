'use strict';
// S3's error responses and XML documents, as the Amazon S3 API Reference
// shows them ("Error responses"; each operation's "Response Syntax"): every
// error is an <Error> document (no namespace) with Code, Message, the
// operation's detail elements, RequestId and HostId; every other document's
// root carries xmlns="http://s3.amazonaws.com/doc/2006-03-01/".  S3's lists
// interleave elements (ListObjectVersions' Version and DeleteMarker), so
// documents are built from ordered [name, value] pairs rather than objects.

const crypto = require('crypto');
const { xml } = require('../lib');

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

// An S3 error: status, Code, Message and detail elements (ordered pairs),
// headers added to the answer (x-amz-delete-marker on a 404 of a delete marker).
class S3Error extends Error {
  constructor(status, code, message, fields, headers) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || [];
    this.headers = headers || {};
  }
}

// The codes and messages of the "Error responses" list (and of the
// operations' own pages) the double answers with; detail elements are
// given at the call.
const ERRORS = {
  AccessDenied: [403, 'Access Denied'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  IllegalLocationConstraintException: [400, 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidBucketState: [409, 'The request is not valid with the current state of the bucket.'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.'],
  InvalidPart: [400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."],
  InvalidPartOrder: [400, 'The list of parts was not in ascending order. Parts must be ordered by part number.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidToken: [400, 'The provided token is malformed or otherwise invalid.'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchObjectLockConfiguration: [404, 'The specified object does not have a ObjectLock configuration'],
  NoSuchUpload: [404, 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented'],
  ObjectLockConfigurationNotFoundError: [404, 'Object Lock configuration does not exist for this bucket'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  SlowDown: [503, 'Please reduce your request rate.'],
  XAmzContentSHA256Mismatch: [400, "The provided 'x-amz-content-sha256' header does not match what was computed."],
};

// s3err('NoSuchKey', [['Key', k]]) or s3err('InvalidArgument', fields, 'message')
function s3err(code, fields, message, headers) {
  const [status, text] = ERRORS[code] || [500, code];
  return new S3Error(status, code, message || text, fields, headers);
}

// The generic answer for a status (a fault rule without a body).
const BY_STATUS = { 400: 'InvalidRequest', 403: 'AccessDenied', 404: 'NoSuchKey', 405: 'MethodNotAllowed', 409: 'InvalidBucketState',
  411: 'MissingContentLength', 412: 'PreconditionFailed', 416: 'InvalidRange', 500: 'InternalError', 501: 'NotImplemented', 503: 'SlowDown' };

function requestId() { return crypto.randomBytes(8).toString('hex').toUpperCase(); }
function hostId() { return crypto.randomBytes(48).toString('base64'); }

// One element from a value: a string/number/boolean is text, an array of
// [name, value] pairs is children, null/undefined leaves it out.
function element(name, value) {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) {
    const inner = value.map(([n, v]) => element(n, v)).join('');
    return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${xml.escape(value)}</${name}>`;
}

// A whole document: doc('ListBucketResult', [['Name', 'b'], ...]) with S3's namespace.
function doc(root, pairs, options) {
  const ns = options && options.noNamespace ? '' : ` xmlns="${S3_NS}"`;
  const inner = pairs.map(([n, v]) => element(n, v)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}${ns}>${inner}</${root}>`;
}

function errorDoc(code, message, fields, reqId, hId) {
  return doc('Error', [['Code', code], ['Message', message], ...fields, ['RequestId', reqId], ['HostId', hId]], { noNamespace: true });
}

// S3's timestamps: XML ISO 8601 with milliseconds, HTTP dates as RFC 1123.
function isoTime(ms) { return new Date(ms).toISOString(); }
function httpTime(ms) { return new Date(ms).toUTCString(); }

module.exports = { S3_NS, S3Error, ERRORS, BY_STATUS, s3err, requestId, hostId, element, doc, errorDoc, isoTime, httpTime };

'use strict';
// The test doubles' library: require('../lib') from tests/doubles/<name>/.
// README.md next to this file describes it for someone writing a double.

const double = require('./double');
const respond = require('./respond');
const { Router } = require('./router');
const { FaultSet, FaultError } = require('./faults');
const { RequestLog, DEFAULT_SECRET_HEADERS } = require('./reqlog');
const xml = require('./xml');
const http1 = require('./http1');

module.exports = Object.assign({}, double, respond, { Router, FaultSet, FaultError, RequestLog, DEFAULT_SECRET_HEADERS, xml, http1 });

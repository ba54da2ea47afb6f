// Target `http-proxy-agent`: http-proxy with a keep-alive http.Agent, the usual fix for upstream connection churn.
import http from 'node:http';
import { startBareProxy } from './bare-proxy.js';

startBareProxy('http-proxy-agent', new http.Agent({ keepAlive: true }));

// Target `http-proxy`: bare http-proxy without an agent, as most examples use it.
import { startBareProxy } from './bare-proxy.js';

startBareProxy('http-proxy', undefined);

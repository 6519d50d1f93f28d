// A child process that logs 500 lines and a last one through the process logger, then exits at once
// (process.exit): what it wrote shows the format chosen for its stderr, and that no line before an exit is lost.
import { createLogger } from '../../src/logging.js';

const logger = createLogger();
for (let n = 1; n <= 500; n++) logger.info({ n }, 'filler');
logger.info({ server: 'oci-101', token: 'secret' }, 'probe loop started');
process.exit(0);

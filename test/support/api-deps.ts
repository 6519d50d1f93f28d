// The API's dependencies for a server built only for its HTTP face (auth, /metrics, routing): every call that
// would need the daemon's parts throws, so a test or bench that reaches one learns it at once.
import type { ApiDeps } from '../../src/http/server.js';
import { NO_OPERATOR_RECORDS } from '../../src/state/operator-records.js';

/** ApiDeps with no servers, no months and no records; the rest throws `why`. */
export function apiWithoutDaemon(why: string): ApiDeps {
  const unused = async (): Promise<never> => {
    throw new Error(why);
  };
  return {
    servers: () => [],
    server: () => undefined,
    knowsServer: () => false,
    knowsCustomer: () => false,
    outages: unused,
    credits: unused,
    closeMonth: unused,
    restateMonth: unused,
    approveMonth: unused,
    draftMonth: unused,
    months: () => [],
    monthStatus: () => undefined,
    monthRecord: () => ({ revisions: [], journal: [] }),
    records: {
      keeper: { addIncident: unused, withdrawIncident: unused, announceMaintenance: unused, cancelMaintenance: unused },
      reader: NO_OPERATOR_RECORDS,
      maintenanceNoticeMs: 0,
    },
  };
}

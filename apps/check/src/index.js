// kura-check as a library: the CLI (bin/kura-check.js) is a thin layer over these.
export { startNginx, nginxConfig } from './nginx.js';
export { freePort, listensOn, startReplica, waitReady } from './replica.js';
export { keptChart } from './chart.js';
export { toJSON, toMarkdown, toSvg, toText } from './report.js';
export { MODES, PACE, runCheck } from './run.js';
export { CannotJudge, cautionsOf, checkScenario, loadScenario } from './scenario.js';
export { Recorder, VirtualUser } from './users.js';
export { EXIT, VERDICTS, verdictOf } from './verdict.js';

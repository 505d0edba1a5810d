/* global process */
// Preloaded (`node -r`) into a benchmark's child process: prints its peak resident set size on exit.
process.on('exit', () => process.stderr.write(`\nSEMREC_MAXRSS_KB ${process.resourceUsage().maxRSS}\n`));

// `amulet companion ...`: the commands live with the companion library (apps/companion), which
// tests them against a running wallet; the amulet command line registers them from here.
export { registerCompanion } from '@amulet/companion';

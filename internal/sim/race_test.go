//go:build race

package sim

// raceEnabled: the race detector makes a simulated run about ten times
// slower, so the short profile covers less time under it (see TestProfile).
const raceEnabled = true

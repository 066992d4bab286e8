//go:build race

package webm

const raceEnabled = true

//go:build !libvpx

package cli

const hasVPX = false

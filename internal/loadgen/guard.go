package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// The load generator is a tool for sizing one's own deployment, not for
// flooding someone else's: by default it talks only to the loopback range,
// and the check is made twice, once on the URL given and once on every
// socket it opens (so a redirect or a DNS answer cannot lead it elsewhere).

// checkTarget validates the server URL and, unless allowRemote, that it
// names a loopback address: 127.0.0.0/8, ::1 or "localhost".
func checkTarget(raw string, allowRemote bool) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server URL %q: scheme must be http or https", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("server URL %q has no host", raw)
	}
	if !allowRemote && !isLoopbackHost(host) {
		return nil, fmt.Errorf("refusing target %q: only loopback (127.0.0.0/8, ::1, localhost) unless --allow-remote", host)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP
// literal. Other names are refused even if they resolve to loopback today.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && isLoopbackAddr(ip)
}

func isLoopbackAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() // 127.0.0.0/8 and ::1
}

// parseSourceAddrs parses --source-addrs: comma-separated IP addresses the
// dialer binds to, round robin. Unless allowRemote they must be loopback.
func parseSourceAddrs(s string, allowRemote bool) ([]netip.Addr, error) {
	var out []netip.Addr
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("source address %q is not an IP address", f)
		}
		if !allowRemote && !isLoopbackAddr(ip) {
			return nil, fmt.Errorf("source address %s is not a loopback address", ip)
		}
		out = append(out, ip)
	}
	return out, nil
}

// Dialer opens TCP connections for both REST and WebSocket traffic. It
// spreads them over the source addresses (each has its own ~28,000
// ephemeral ports) and refuses non-loopback peers unless allowed.
type Dialer struct {
	sources     []netip.Addr
	next        atomic.Uint64
	allowRemote bool
	timeout     time.Duration
}

func newDialer(sources []netip.Addr, allowRemote bool) *Dialer {
	return &Dialer{sources: sources, allowRemote: allowRemote, timeout: 10 * time.Second}
}

// srcKey carries a source address chosen by the caller in a context.
type srcKey struct{}

// withSource makes DialContext dial from ip.
func withSource(ctx context.Context, ip netip.Addr) context.Context {
	return context.WithValue(ctx, srcKey{}, ip)
}

// DialContext dials network/addr from the source address in ctx if there
// is one, else from the next of --source-addrs.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.timeout, KeepAlive: -1, Control: d.control}
	if ip, ok := ctx.Value(srcKey{}).(netip.Addr); ok {
		nd.LocalAddr = &net.TCPAddr{IP: ip.AsSlice()}
	} else if len(d.sources) > 0 {
		src := d.sources[(d.next.Add(1)-1)%uint64(len(d.sources))]
		nd.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	return nd.DialContext(ctx, network, addr)
}

// Dial satisfies gws.Dialer.
func (d *Dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// control runs after the peer address is resolved, before connect: the
// last place to refuse a non-loopback peer.
func (d *Dialer) control(network, address string, _ syscall.RawConn) error {
	if d.allowRemote {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("loadgen: cannot check peer %q: %w", address, err)
	}
	if !isLoopbackAddr(ap.Addr()) {
		return fmt.Errorf("loadgen: refusing to connect to non-loopback %s (use --allow-remote)", ap.Addr())
	}
	return nil
}

// clientAddrs is a range of loopback addresses that stand in for the
// addresses of distinct visitors. The server limits new visitor sessions
// (and logins) per client address, as it should against abuse; real
// visitors come from many addresses, so each simulated visitor's session
// request comes from its own address in the range. Only the request that
// creates the session uses it; everything else shares --source-addrs.
type clientAddrs struct {
	prefix netip.Prefix
	size   uint64
	offset uint64 // per run, so back-to-back runs start at different addresses
}

func parseClientAddrs(s string, allowRemote bool) (*clientAddrs, error) {
	if s == "" || s == "off" {
		return nil, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return nil, fmt.Errorf("--client-addrs %q: %w", s, err)
	}
	p = p.Masked()
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("--client-addrs %q: only IPv4 ranges", s)
	}
	if !allowRemote && !(isLoopbackAddr(p.Addr()) && p.Bits() >= 8) {
		return nil, fmt.Errorf("--client-addrs %s is not inside 127.0.0.0/8", p)
	}
	bits := 32 - p.Bits()
	if bits < 1 {
		return nil, fmt.Errorf("--client-addrs %s: need a range of at least 2 addresses", p)
	}
	return &clientAddrs{prefix: p, size: uint64(1) << bits}, nil
}

// pick returns the i-th address of the range, skipping the network
// address (127.x.0.0 style addresses are fine on loopback, but .0 looks
// odd in logs).
func (c *clientAddrs) pick(i int) netip.Addr {
	n := (c.offset + uint64(i)) % (c.size - 1)
	b := c.prefix.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n + 1)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

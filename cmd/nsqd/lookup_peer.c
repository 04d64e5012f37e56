/*
 * nsqd's side of discovery: one peer per nsqlookupd TCP address.  A peer
 * connects, sends the "  V1" magic and IDENTIFY, then REGISTERs every
 * topic (a topic with channels as one REGISTER per channel), PINGs every
 * --lookupd-ping-interval (15 s, as Go), and announces each topic and
 * channel creation and deletion at once.  Any failure closes the
 * connection; the peer reconnects with a backoff doubling from 1 s up to
 * the ping interval and registers everything again.  Nothing here blocks
 * the loop: connects are non-blocking and replies are read as they come.
 *
 * Replies ([int32 size][data], no frame type) are read in order and only
 * logged, except IDENTIFY's JSON, which gives lookupd's HTTP address.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "names.h"
#include "net.h"
#include "nsqd.h"
#include "xmalloc.h"

#define LP_MAX_REPLY	(1 << 20)
#define LP_DIAL_TIMEOUT	1.0

enum lp_state { LP_IDLE, LP_CONNECTING, LP_CONNECTED };

struct lookup_peer {
	struct nsqd	*nsqd;
	char		*addr;
	int		 fd;
	enum lp_state	 state;
	ev_io		 rd;
	ev_io		 wr;
	ev_timer	 timer;		/* dial timeout, backoff, ping */
	double		 backoff;
	struct buf	 in;
	struct buf	 out;
	bool		 identified;	/* IDENTIFY reply read */
	char		 http_addr[300]; /* lookupd's HTTP host:port */
};

static void	lp_connect(struct lookup_peer *);
static void	lp_flush(struct lookup_peer *);

static double
ping_interval(const struct lookup_peer *p)
{
	return (double)p->nsqd->o->lookupd_ping_interval / 1e9;
}

/* Close the connection and try again after the backoff. */
static void
lp_fail(struct lookup_peer *p, const char *why)
{
	struct ev_loop *loop = p->nsqd->loop;

	log_warnx("LOOKUP(%s): %s; reconnecting in %.0fs", p->addr, why,
	    p->backoff);
	ev_io_stop(loop, &p->rd);
	ev_io_stop(loop, &p->wr);
	ev_timer_stop(loop, &p->timer);
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	p->state = LP_IDLE;
	p->identified = false;
	buf_reset(&p->in);
	buf_reset(&p->out);
	ev_timer_set(&p->timer, p->backoff, 0.);
	ev_timer_start(loop, &p->timer);
	p->backoff *= 2;
	if (p->backoff > ping_interval(p))
		p->backoff = ping_interval(p);
}

static void
lp_send(struct lookup_peer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
lp_send(struct lookup_peer *p, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	if (p->state != LP_CONNECTED)
		return;		/* all is registered again on connect */
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    buf_append(&p->out, line, (size_t)n) == -1) {
		lp_fail(p, "command too long or output full");
		return;
	}
	log_debug("LOOKUP(%s): %.*s", p->addr, n - 1, line);
	/*
	 * Written when the loop next polls: what this turn announces (a
	 * sweep of creates or deletes) goes out in one write.
	 */
	ev_io_start(p->nsqd->loop, &p->wr);
}

static void
lp_flush(struct lookup_peer *p)
{
	ssize_t n;

	while (buf_len(&p->out) > 0) {
		n = buf_write_fd(&p->out, p->fd);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			ev_io_start(p->nsqd->loop, &p->wr);
			return;
		}
		lp_fail(p, "write failed");
		return;
	}
	ev_io_stop(p->nsqd->loop, &p->wr);
}

/* REGISTER everything this nsqd has. */
static void
lp_register_all(struct lookup_peer *p)
{
	struct topic *t;
	size_t pos = 0, i;

	while ((t = hmap_next(&p->nsqd->topics, &pos)) != NULL) {
		if (t->nchans == 0)
			lp_send(p, "REGISTER %s\n", t->name);
		for (i = 0; i < t->nchans; i++)
			lp_send(p, "REGISTER %s %s\n", t->name,
			    t->chans[i]->name);
	}
}

static void
lp_identify(struct lookup_peer *p)
{
	struct nsqd *n = p->nsqd;
	struct buf b;
	struct jw w;
	unsigned char size[4];

	buf_init(&b, 256, 4096);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_key(&w, "version");
	jw_str(&w, NSQ_COMPAT_VERSION);
	jw_key(&w, "tcp_port");
	jw_int(&w, nsqd_broadcast_tcp_port(n));
	jw_key(&w, "http_port");
	jw_int(&w, nsqd_broadcast_http_port(n));
	jw_key(&w, "hostname");
	jw_str(&w, n->hostname);
	jw_key(&w, "broadcast_address");
	jw_str(&w, n->o->broadcast_address);
	jw_key(&w, "topology_zone");
	jw_str(&w, n->o->topology_zone);
	jw_key(&w, "topology_region");
	jw_str(&w, n->o->topology_region);
	jw_obj_end(&w);
	be32enc(size, (uint32_t)buf_len(&b));
	if (jw_finish(&w) == -1 ||
	    buf_append(&p->out, "  V1IDENTIFY\n", 13) == -1 ||
	    buf_append(&p->out, size, 4) == -1 ||
	    buf_append(&p->out, buf_data(&b), buf_len(&b)) == -1) {
		buf_free(&b);
		lp_fail(p, "cannot build IDENTIFY");
		return;
	}
	buf_free(&b);
	lp_flush(p);
}

/* lookupd's IDENTIFY reply: {"tcp_port","http_port","version",...}. */
static void
lp_identified(struct lookup_peer *p, const char *data, size_t len)
{
	struct json j;
	char err[128], *addr = NULL;
	int64_t port;
	int t;

	p->identified = true;
	if (json_parse(&j, data, len, err, sizeof(err)) == -1) {
		log_warnx("LOOKUP(%s): IDENTIFY reply: %.*s", p->addr,
		    (int)len, data);
		return;
	}
	if ((t = json_obj_get(&j, 0, "broadcast_address")) != -1)
		addr = json_get_str(&j, t, NULL);
	if (addr != NULL &&
	    (t = json_obj_get(&j, 0, "http_port")) != -1 &&
	    json_get_int64(&j, t, &port) == 0)
		snprintf(p->http_addr, sizeof(p->http_addr),
		    strchr(addr, ':') ? "[%s]:%lld" : "%s:%lld", addr,
		    (long long)port);
	free(addr);
	json_free(&j);
	log_info("LOOKUP(%s): peer info %.*s", p->addr, (int)len, data);
}

static void
lp_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct lookup_peer *p = w->data;
	uint32_t size;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = buf_read_fd(&p->in, p->fd);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		lp_fail(p, n == 0 ? "connection closed" : "read failed");
		return;
	}
	while (buf_len(&p->in) >= 4) {
		size = be32dec(buf_data(&p->in));
		if (size > LP_MAX_REPLY) {
			lp_fail(p, "reply too large");
			return;
		}
		if (buf_len(&p->in) < 4 + (size_t)size)
			break;
		if (!p->identified)
			lp_identified(p, buf_data(&p->in) + 4, size);
		else if (size < 2 || memcmp(buf_data(&p->in) + 4, "OK", 2))
			log_warnx("LOOKUP(%s): %.*s", p->addr, (int)size,
			    buf_data(&p->in) + 4);
		buf_consume(&p->in, 4 + (size_t)size);
	}
}

static void
lp_connected(struct lookup_peer *p)
{
	struct ev_loop *loop = p->nsqd->loop;

	p->state = LP_CONNECTED;
	p->backoff = 1.0;
	log_info("LOOKUP(%s): connected", p->addr);
	ev_io_stop(loop, &p->wr);
	ev_io_set(&p->wr, p->fd, EV_WRITE);
	ev_io_set(&p->rd, p->fd, EV_READ);
	ev_io_start(loop, &p->rd);
	ev_timer_stop(loop, &p->timer);
	ev_timer_set(&p->timer, ping_interval(p), ping_interval(p));
	ev_timer_start(loop, &p->timer);
	lp_identify(p);
	if (p->state == LP_CONNECTED)
		lp_register_all(p);
}

static void
lp_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct lookup_peer *p = w->data;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)loop;
	(void)revents;
	if (p->state == LP_CONNECTING) {
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			errno = err;
			lp_fail(p, strerror(err));
			return;
		}
		lp_connected(p);
		return;
	}
	lp_flush(p);
}

static void
lp_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct lookup_peer *p = w->data;

	(void)loop;
	(void)revents;
	switch (p->state) {
	case LP_IDLE:
		lp_connect(p);
		break;
	case LP_CONNECTING:
		lp_fail(p, "dial timeout");
		break;
	case LP_CONNECTED:
		lp_send(p, "PING\n");
		break;
	}
}

static void
lp_connect(struct lookup_peer *p)
{
	struct ev_loop *loop = p->nsqd->loop;
	char err[256];

	p->fd = net_connect(p->addr, err, sizeof(err));
	if (p->fd == -1) {
		lp_fail(p, err);
		return;
	}
	p->state = LP_CONNECTING;
	ev_io_set(&p->wr, p->fd, EV_WRITE);
	ev_io_start(loop, &p->wr);
	ev_timer_stop(loop, &p->timer);
	ev_timer_set(&p->timer, LP_DIAL_TIMEOUT, 0.);
	ev_timer_start(loop, &p->timer);
}

static struct lookup_peer *
lp_new(struct nsqd *n, const char *addr)
{
	struct lookup_peer *p = xcalloc(1, sizeof(*p));

	p->nsqd = n;
	p->addr = xstrdup(addr);
	p->fd = -1;
	p->backoff = 1.0;
	buf_init(&p->in, 4096, LP_MAX_REPLY + 4);
	buf_init(&p->out, 4096, 16 << 20);
	ev_init(&p->rd, lp_read_cb);
	p->rd.data = p;
	ev_init(&p->wr, lp_write_cb);
	p->wr.data = p;
	ev_init(&p->timer, lp_timer_cb);
	p->timer.data = p;
	log_info("LOOKUP(%s): adding peer", addr);
	lp_connect(p);
	return p;
}

static void
lp_free(struct lookup_peer *p)
{
	struct ev_loop *loop = p->nsqd->loop;

	ev_io_stop(loop, &p->rd);
	ev_io_stop(loop, &p->wr);
	ev_timer_stop(loop, &p->timer);
	if (p->fd != -1)
		close(p->fd);
	buf_free(&p->in);
	buf_free(&p->out);
	free(p->addr);
	free(p);
}

/*
 * Make the peers match the list: keep those still named, connect new ones,
 * drop the rest (used at start and by PUT /config/nsqlookupd_tcp_addresses).
 */
void
lookup_set_peers(struct nsqd *n, const struct strlist *addrs)
{
	struct lookup_peer **keep;
	size_t i, j, nkeep = 0;

	keep = xcalloc(addrs->n + 1, sizeof(*keep));
	for (i = 0; i < addrs->n; i++) {
		for (j = 0; j < n->npeers; j++) {
			if (n->peers[j] != NULL &&
			    strcmp(n->peers[j]->addr, addrs->v[i]) == 0) {
				keep[nkeep++] = n->peers[j];
				n->peers[j] = NULL;
				break;
			}
		}
		if (j == n->npeers)
			keep[nkeep++] = lp_new(n, addrs->v[i]);
	}
	for (j = 0; j < n->npeers; j++) {
		if (n->peers[j] != NULL) {
			log_info("LOOKUP(%s): removing peer", n->peers[j]->addr);
			lp_free(n->peers[j]);
		}
	}
	free(n->peers);
	n->peers = keep;
	n->npeers = nkeep;
}

void
lookup_free(struct nsqd *n)
{
	size_t i;

	for (i = 0; i < n->npeers; i++)
		lp_free(n->peers[i]);
	free(n->peers);
	n->peers = NULL;
	n->npeers = 0;
}

/* Announce a creation (reg) or deletion (!reg) to every peer. */
void
lookup_notify(struct nsqd *n, const struct topic *t,
    const struct channel *ch, bool reg)
{
	const char *cmd = reg ? "REGISTER" : "UNREGISTER";
	size_t i;

	for (i = 0; i < n->npeers; i++) {
		if (ch != NULL)
			lp_send(n->peers[i], "%s %s %s\n", cmd, t->name,
			    ch->name);
		else
			lp_send(n->peers[i], "%s %s\n", cmd, t->name);
	}
}

/*
 * A topic created on this nsqd gets the channels nsqlookupd already knows
 * for it (Go's GetTopic does the same, blocking; here each lookupd's
 * /channels answer is applied when it comes).  Ephemeral channels are not
 * pre-created.  The query is one HTTP/1.0 GET on a non-blocking socket,
 * read to EOF: nsqd needs nothing more from HTTP, and keeping libcurl
 * (and the libraries it loads) out of the daemon keeps it small.
 */
#define PRE_MAX	(1 << 20)

struct precreate {
	struct nsqd		*nsqd;
	TAILQ_ENTRY(precreate)	 link;
	int			 fd;
	ev_io			 io;
	ev_timer		 timeout;
	struct buf		 b;	/* request out, then reply in */
	bool			 sent;
	char			 topic[];
};

static void
pre_free(struct precreate *pc)
{
	struct ev_loop *loop = pc->nsqd->loop;

	TAILQ_REMOVE(&pc->nsqd->precreates, pc, link);
	ev_io_stop(loop, &pc->io);
	ev_timer_stop(loop, &pc->timeout);
	close(pc->fd);
	buf_free(&pc->b);
	free(pc);
}

/* The reply is complete: create the channels it names. */
static void
pre_apply(struct precreate *pc)
{
	struct nsqd *n = pc->nsqd;
	const char *d = buf_data(&pc->b), *body;
	size_t len = buf_len(&pc->b), nlen;
	struct topic *t;
	struct json j;
	char jerr[128], *name;
	int arr, i;

	body = memmem(d, len, "\r\n\r\n", 4);
	if (len < 12 || memcmp(d, "HTTP/1.", 7) != 0 ||
	    memcmp(d + 8, " 200", 4) != 0 || body == NULL) {
		log_warnx("LOOKUP: /channels?topic=%s: unexpected reply %.*s",
		    pc->topic, (int)(len < 12 ? len : 12), d);
		return;
	}
	body += 4;
	t = nsqd_find_topic(n, pc->topic, strlen(pc->topic));
	if (t == NULL || json_parse(&j, body, len - (size_t)(body - d), jerr,
	    sizeof(jerr)) == -1)
		return;
	arr = json_obj_get(&j, 0, "channels");
	for (i = 0; arr != -1 && i < json_size(&j, arr); i++) {
		name = json_get_str(&j, json_arr_at(&j, arr, i), &nlen);
		if (name != NULL && name_valid(name, nlen) &&
		    !name_ephemeral(name, nlen) &&
		    topic_find_channel(t, name, nlen) == NULL) {
			log_info("LOOKUP: pre-creating CHANNEL(%s:%s) known "
			    "to nsqlookupd", t->name, name);
			(void)topic_get_channel(t, name, nlen);
		}
		free(name);
	}
	json_free(&j);
}

static void
pre_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct precreate *pc = w->data;
	int err = 0;
	socklen_t elen = sizeof(err);
	ssize_t r;

	(void)revents;
	if (!pc->sent) {
		if (getsockopt(pc->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 &&
		    err == 0)
			r = buf_write_fd(&pc->b, pc->fd);
		else {
			errno = err;
			r = -1;
		}
		if (r == -1 && errno != EAGAIN) {
			log_warn("LOOKUP: /channels?topic=%s", pc->topic);
			pre_free(pc);
			return;
		}
		if (buf_len(&pc->b) > 0)
			return;
		pc->sent = true;
		buf_reset(&pc->b);
		ev_io_stop(loop, w);
		ev_io_set(w, pc->fd, EV_READ);
		ev_io_start(loop, w);
		return;
	}
	r = buf_read_fd(&pc->b, pc->fd);
	if (r > 0 || (r == -1 && errno == EAGAIN))
		return;
	if (r == 0)
		pre_apply(pc);
	else
		log_warn("LOOKUP: /channels?topic=%s", pc->topic);
	pre_free(pc);
}

static void
pre_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct precreate *pc = w->data;

	(void)loop;
	(void)revents;
	log_warnx("LOOKUP: /channels?topic=%s: timed out", pc->topic);
	pre_free(pc);
}

void
lookup_precreate(struct nsqd *n, const struct topic *t)
{
	char err[256], host[300];
	size_t i;
	int port;

	for (i = 0; i < n->npeers; i++) {
		struct lookup_peer *p = n->peers[i];
		struct precreate *pc;
		int fd;

		if (p->http_addr[0] == '\0')
			continue;
		if ((fd = net_connect(p->http_addr, err, sizeof(err))) == -1) {
			log_warnx("LOOKUP: %s", err);
			continue;
		}
		if (net_split_hostport(p->http_addr, host, sizeof(host),
		    &port) == -1)
			host[0] = '\0';
		pc = xcalloc(1, sizeof(*pc) + t->namelen + 1);
		pc->nsqd = n;
		pc->fd = fd;
		memcpy(pc->topic, t->name, t->namelen + 1);
		buf_init(&pc->b, 512, PRE_MAX);
		/* Names are URL-safe but for the '#' of #ephemeral. */
		buf_addf(&pc->b, "GET /channels?topic=%.*s%s "
		    "HTTP/1.0\r\nHost: %s\r\nAccept: application/vnd.nsq; "
		    "version=1.0\r\n\r\n", (int)(t->ephemeral ?
		    t->namelen - 10 : t->namelen), t->name,
		    t->ephemeral ? "%23ephemeral" : "", host);
		if (buf_failed(&pc->b)) {
			/* A name and a host name cannot make 1 MiB. */
			log_warnx("LOOKUP: /channels?topic=%s: request too "
			    "big", t->name);
			close(fd);
			buf_free(&pc->b);
			free(pc);
			continue;
		}
		ev_io_init(&pc->io, pre_io_cb, fd, EV_WRITE);
		pc->io.data = pc;
		ev_io_start(n->loop, &pc->io);
		ev_timer_init(&pc->timeout, pre_timeout_cb,
		    (double)n->o->http_client_request_timeout / 1e9, 0.);
		pc->timeout.data = pc;
		ev_timer_start(n->loop, &pc->timeout);
		TAILQ_INSERT_TAIL(&n->precreates, pc, link);
	}
}

/* Cancel what is pending (at exit). */
void
lookup_precreate_free(struct nsqd *n)
{
	struct precreate *pc;

	while ((pc = TAILQ_FIRST(&n->precreates)) != NULL)
		pre_free(pc);
}

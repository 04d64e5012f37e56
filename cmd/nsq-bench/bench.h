/*
 * nsq-bench's shared declarations.  One libev loop drives every
 * connection of a run; a run is one mode (writer, reader, sink, loopback
 * or echo) and ends with one summary line of key=value pairs on stdout.
 */
#ifndef NSQ_BENCH_H
#define NSQ_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <ev.h>

#include "buffer.h"
#include "hist.h"
#include "options.h"

#define FRAME_RESPONSE	0
#define FRAME_ERROR	1
#define FRAME_MESSAGE	2
#define MAX_FRAME	(64 * 1024 * 1024)

struct bench_opts {
	const char	*addr;		/* --nsqd-tcp-address */
	const char	*topic;
	struct strlist	 channels;	/* empty: "ch" */
	const char	*deadline;	/* "YYYY-MM-DD HH:MM:SS", UTC */
	int64_t		 deadline_ns;	/* the same in Unix ns; 0: none */
	int64_t		 batch_size;
	int64_t		 connections;
	int64_t		 count;		/* 0: no limit */
	int64_t		 rate;		/* msg/s; 0: as fast as answered */
	int64_t		 rdy;
	int64_t		 runfor;	/* ns */
	int64_t		 size;
};

enum conn_state {
	CS_CONNECTING,		/* waiting for connect(2) */
	CS_HANDSHAKE,		/* IDENTIFY sent, awaiting its OK */
	CS_READY,		/* waiting for the others and the deadline */
	CS_RUNNING,
	CS_DONE,
};

struct bconn {
	struct bench	*b;
	int		 fd;
	enum conn_state	 state;
	ev_io		 rd;
	ev_io		 wr;
	struct buf	 in;
	/*
	 * Handshake, NOPs and FINs.  A writer writes it only between two
	 * commands (woff == 0), so a NOP never splits an MPUB.
	 */
	struct buf	 out;
	int		 oks;		/* handshake responses awaited */
	const char	*channel;	/* reader */
	/*
	 * Writer: queued commands as message counts, a ring indexed by
	 * free-running counters: [q_ack, q_wr) written and awaiting OK,
	 * [q_wr, q_end) to write, woff bytes of ring[q_wr] written.
	 */
	uint32_t	*ring;
	uint64_t	 ring_cap;	/* a power of two */
	uint64_t	 q_ack, q_wr, q_end;
	size_t		 woff;
};

struct bench {
	struct ev_loop		*loop;
	const struct bench_opts	*o;
	bool			 writer;	/* else reader */
	struct bconn		*conns;
	size_t			 nconns;
	size_t			 nready;
	size_t			 ndone;
	ev_timer		 start_timer;	/* --deadline */
	ev_timer		 end_timer;	/* --runfor */
	ev_timer		 guard_timer;	/* a run that cannot end */
	ev_timer		 rate_timer;	/* --rate */
	int64_t			 t_start;	/* monotonic ns */
	int64_t			 t_last;	/* last ack or message */
	bool			 running;
	bool			 stopping;	/* no new commands */
	bool			 finished;
	uint64_t		 msgs;
	uint64_t		 bytes;		/* message bodies */
	uint64_t		 issued;	/* writer: queued */
	uint64_t		 outstanding;	/* writer: queued, not OK */
	bool			 got;		/* reader: messages this read */
	size_t			 subs_pending;	/* reader: SUBs not answered */
	uint64_t		 redelivered;	/* attempts > 1 */
	uint64_t		 nonfatal;	/* E_FIN_FAILED etc. */
	struct hist		 lat;		/* reader: ns, ts to receipt */
	size_t			 rr;		/* rate: next connection */
	/* Writer: the whole-batch command, and the last shorter one. */
	char			*cmd_full;
	size_t			 cmd_full_len;
	char			*cmd_rem;
	size_t			 cmd_rem_len;
	uint32_t		 rem_n;
};

/* main.c */
int64_t	 mono_ns(void);
int64_t	 real_ns(void);
/* "key=value" numbers for the summary: elapsed and rates. */
void	 print_rates(uint64_t msgs, uint64_t bytes, int64_t ns);

/* conn.c: connections to nsqd shared by writer and reader. */
/*
 * Connect --connections sockets and send the handshake (magic and
 * IDENTIFY); exits on error.  Readers SUB when the run begins.
 */
void	 conns_open(struct bench *);
/* Close every connection and free them. */
void	 conns_close(struct bench *);
/* Begin the run: at once, or at --deadline once every one is ready. */
void	 conns_ready(struct bench *, struct bconn *);
/* Write what is pending; starts/stops the write watcher. */
void	 conn_flush(struct bconn *);
/* Write the small-output buffer; 1 while some remains, else 0. */
int	 conn_write_out(struct bconn *);
/* Append to the connection's small-output buffer; exits when full. */
void	 conn_queue(struct bconn *, const void *, size_t);
/* End the loop; remaining FINs are written with a short bound. */
void	 bench_finish(struct bench *);

/* writer.c */
int	 writer_main(const struct bench_opts *);
void	 writer_start(struct bench *);
/* --runfor is over: no more commands. */
void	 writer_stop(struct bench *);
void	 writer_response(struct bconn *, const char *, size_t);
/* conn_flush for writers: 1 while output remains. */
int	 writer_flush(struct bconn *);

/* reader.c */
int	 reader_main(const struct bench_opts *);
void	 reader_start(struct bench *);
void	 reader_stop(struct bench *);
/* A response frame while running: the answer to SUB. */
void	 reader_response(struct bconn *, const char *, size_t);
/* One message frame's data; now is the wall clock in ns. */
void	 reader_message(struct bconn *, const char *, size_t, int64_t now);
/* After a read's frames: FINs out, --count checked. */
void	 reader_read_done(struct bconn *);

/* sink.c */
int	 sink_main(const struct bench_opts *);
int	 loopback_main(const struct bench_opts *);

/* echo.c: a server that answers every PUB with OK, and nothing else. */
int	 echo_main(const struct bench_opts *);

#endif

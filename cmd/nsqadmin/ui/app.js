/*
 * nsqadmin's page: plain JavaScript, no framework, no dependency.
 *
 * The views are those of Go's nsqadmin, at the same paths below the base
 * path (/, /topics/T, /topics/T/C, /nodes, /nodes/N, /counter, /lookup),
 * over the same /api.  Each view loads its data, renders, and is polled
 * again every POLL_MS while it is shown, so the numbers move without a
 * reload.  Rates are message counts differenced between two polls, kept
 * with depth and in-flight in a short history per topic and channel:
 * that history draws the spark lines, and extends the graph that
 * /api/history gives the topic and channel views.
 *
 * The topics list takes every node's whole /api/nodes/N once a poll (one
 * request a node, whatever the number of topics) rather than a request
 * per topic, and renders a table as one string.
 */
(function () {
"use strict";

var CONF = window.NSQADMIN || { base: "", version: "", isAdmin: true,
    lookupd: [] };
var BASE = CONF.base;
var POLL_MS = 3000;
var HISTORY_LEN = 120;		/* samples kept per key: 6 min at 3 s */
var SPARK_LEN = 30;

/* ---- helpers ---- */

function esc(s) {
	return String(s === undefined || s === null ? "" : s).replace(
	    /[&<>"']/g, function (c) {
		return { "&": "&amp;", "<": "&lt;", ">": "&gt;",
		    '"': "&quot;", "'": "&#39;" }[c];
	});
}

function $(sel, root) { return (root || document).querySelector(sel); }

/* 1234 -> "1.2k", 3400000 -> "3.4M"; below 1000 the number itself. */
function human(n) {
	if (n === undefined || n === null || isNaN(n))
		return "–";
	var a = Math.abs(n), units = ["", "k", "M", "B", "T"], i = 0;
	if (a < 1000)
		return a === Math.floor(a) ? String(n) : n.toFixed(1);
	while (a >= 1000 && i < units.length - 1) {
		a /= 1000;
		n /= 1000;
		i++;
	}
	return (a >= 100 ? n.toFixed(0) : n.toFixed(1)) + units[i];
}

function rateText(r) {
	if (r === undefined || r === null || isNaN(r))
		return "–";
	return human(r < 10 ? Math.round(r * 10) / 10 : Math.round(r)) + "/s";
}

function duration(sec) {
	if (!(sec >= 0))
		return "–";
	sec = Math.floor(sec);
	var d = Math.floor(sec / 86400), h = Math.floor(sec % 86400 / 3600),
	    m = Math.floor(sec % 3600 / 60), s = sec % 60;
	if (d)
		return d + "d " + h + "h";
	if (h)
		return h + "h " + m + "m";
	if (m)
		return m + "m " + s + "s";
	return s + "s";
}

function enc(s) { return encodeURIComponent(s); }
/* As Go's page: no trailing slash, but at least "/". */
function page(p) { return (BASE + p).replace(/\/$/, "") || "/"; }
function api(p) { return BASE + "/api" + p; }
function link(p, text) {
	return '<a href="' + esc(page(p)) + '" data-nav>' + esc(text) + "</a>";
}

/*
 * One request to nsqadmin.  Every request says it is JSON (the daemon
 * refuses other Content-Types on actions, against cross-site forms).
 * A failure rejects with Go's page's own words: the reply's "message",
 * else that nsqadmin could not be reached or its JSON not decoded.
 */
function request(method, url, body) {
	var opts = { method: method, headers: {
	    "Accept": "application/vnd.nsq; version=1.0",
	    "Content-Type": "application/json" } };
	if (body !== undefined)
		opts.body = JSON.stringify(body);
	return fetch(url, opts).then(function (res) {
		return res.text().then(function (text) {
			var data;
			try {
				data = text === "" ? {} : JSON.parse(text);
			} catch (e) {
				throw new Error("ERROR: failed to decode JSON - " +
				    e.message);
			}
			if (!res.ok) {
				var err = new Error(data && data.message ?
				    data.message : res.status + " " +
				    res.statusText);
				err.status = res.status;
				throw err;
			}
			return data;
		});
	}, function () {
		throw new Error("ERROR: failed to connect to nsqadmin");
	});
}
function get(p) { return request("GET", api(p)); }

/* A node's name in URLs: its HTTP address, as Go's Producer gives it. */
function nodeName(p) {
	var h = p.broadcast_address;
	if (h.indexOf(":") >= 0)
		h = "[" + h + "]";
	return h + ":" + p.http_port;
}

/* ---- rates and the short history ---- */

var samples = {};	/* key -> { last: [t, count], pts: [[t, rate, depth, inflight]] } */

/* Records a sample for key and returns its rate (undefined at first). */
function sample(key, count, depth, inflight) {
	var now = Date.now() / 1000, h = samples[key], rate;
	if (!h)
		h = samples[key] = { last: null, pts: [] };
	if (h.last && now - h.last[0] >= 0.5) {
		rate = Math.max(0, (count - h.last[1]) / (now - h.last[0]));
		h.pts.push([now, rate, depth, inflight]);
		if (h.pts.length > HISTORY_LEN)
			h.pts.shift();
		h.last = [now, count];
	} else if (!h.last) {
		h.last = [now, count];
	} else if (h.pts.length) {
		rate = h.pts[h.pts.length - 1][1];
	}
	return rate;
}

function lastRate(key) {
	var h = samples[key];
	return h && h.pts.length ? h.pts[h.pts.length - 1][1] : undefined;
}

function spark(key) {
	var h = samples[key], pts = h ? h.pts.slice(-SPARK_LEN) : [];
	if (pts.length < 2)
		return '<svg class="spark"></svg>';
	var max = 0, i, out = [];
	for (i = 0; i < pts.length; i++)
		max = Math.max(max, pts[i][1]);
	for (i = 0; i < pts.length; i++)
		out.push((i * 90 / (pts.length - 1)).toFixed(1) + "," +
		    (17 - (max ? pts[i][1] / max * 16 : 0)).toFixed(1));
	return '<svg class="spark" viewBox="0 0 90 18" ' +
	    'preserveAspectRatio="none"><polyline points="' + out.join(" ") +
	    '"/></svg>';
}

/*
 * The graph: rate on the left scale, depth and in-flight on the right,
 * over the points given ([unix time, rate, depth, in flight]).
 */
function graph(pts, title) {
	var W = 900, H = 180, L = 50, R = 50, T = 14, B = 22;
	var i, t0, t1, rmax = 0, dmax = 0;
	if (!pts || pts.length < 2)
		return '<div class="graph"><svg viewBox="0 0 ' + W + " " + H +
		    '"><text x="' + W / 2 + '" y="' + H / 2 +
		    '" text-anchor="middle">collecting data…</text></svg></div>';
	t0 = pts[0][0];
	t1 = pts[pts.length - 1][0];
	if (t1 <= t0)
		t1 = t0 + 1;
	for (i = 0; i < pts.length; i++) {
		rmax = Math.max(rmax, pts[i][1] || 0);
		dmax = Math.max(dmax, pts[i][2] || 0, pts[i][3] || 0);
	}
	function x(t) { return (L + (t - t0) / (t1 - t0) * (W - L - R)).toFixed(1); }
	function y(v, max) { return (T + (H - T - B) * (1 - (max ? v / max : 0))).toFixed(1); }
	/* A point without a value (the first rate) starts no line. */
	function path(col, max) {
		var d = [];
		for (i = 0; i < pts.length; i++)
			if (pts[i][col] !== null && pts[i][col] !== undefined)
				d.push((d.length ? "L" : "M") + x(pts[i][0]) +
				    " " + y(pts[i][col], max));
		return d.join("");
	}
	var s = '<div class="graph"><div class="legend">' +
	    '<span><i style="background:#1d5a8c"></i>' + esc(title) +
	    ' rate</span><span><i style="background:#9a6700"></i>depth</span>' +
	    '<span><i style="background:#1a7f37"></i>in flight</span></div>' +
	    '<svg viewBox="0 0 ' + W + " " + H + '">';
	for (i = 0; i <= 4; i++) {
		var gy = T + (H - T - B) * i / 4;
		s += '<line class="grid" x1="' + L + '" x2="' + (W - R) +
		    '" y1="' + gy + '" y2="' + gy + '"/>';
		s += '<text x="' + (L - 4) + '" y="' + (gy + 4) +
		    '" text-anchor="end">' + rateText(rmax * (4 - i) / 4) +
		    '</text><text x="' + (W - R + 4) + '" y="' + (gy + 4) +
		    '">' + human(Math.round(dmax * (4 - i) / 4)) + "</text>";
	}
	s += '<text x="' + L + '" y="' + (H - 6) + '">' +
	    esc(new Date(t0 * 1000).toLocaleTimeString()) + "</text>" +
	    '<text x="' + (W - R) + '" y="' + (H - 6) +
	    '" text-anchor="end">' +
	    esc(new Date(t1 * 1000).toLocaleTimeString()) + "</text>";
	s += '<path class="depth" d="' + path(2, dmax) + '"/>' +
	    '<path class="inflight" d="' + path(3, dmax) + '"/>' +
	    '<path class="rate" d="' + path(1, rmax) + '"/>';
	return s + "</svg></div>";
}

/* /api/history's points, then this page's own samples after them. */
function graphPoints(hist, key) {
	var pts = hist && hist.points ? hist.points.slice() : [];
	var mine = samples[key] ? samples[key].pts : [];
	var last = pts.length ? pts[pts.length - 1][0] : 0;
	for (var i = 0; i < mine.length; i++)
		if (mine[i][0] > last)
			pts.push(mine[i]);
	return pts;
}

function historyQuery(q) {
	return get("/history?" + q).catch(function () { return null; });
}

/* ---- messages above the view ---- */

function showWarning(msg) {
	var w = $("#warning");
	w.textContent = msg || "";
	w.hidden = !msg;
}
function showError(msg) {
	var e = $("#error");
	e.textContent = msg || "";
	e.hidden = !msg;
}
function flash(kind, msg) {
	var f = $("#flash");
	var d = document.createElement("div");
	d.className = "alert alert-" + kind;
	d.setAttribute("role", "status");
	d.textContent = msg;
	f.replaceChildren(d);
	setTimeout(function () {
		if (d.parentNode)
			d.remove();
	}, 8000);
}

/* A modal question; resolves true on OK. */
function confirmAction(html) {
	var dlg = $("#confirm");
	$("#confirm-text").innerHTML = html;
	return new Promise(function (resolve) {
		dlg.addEventListener("close", function () {
			resolve(dlg.returnValue === "ok");
		}, { once: true });
		dlg.returnValue = "";
		dlg.showModal();
		$("#confirm-ok").focus();
	});
}

/*
 * Asks, then sends one action and says how it went: the daemon's partial
 * failure message (a node that did not answer) as a warning.
 */
function act(question, method, url, body, done) {
	return confirmAction(question).then(function (yes) {
		if (!yes)
			return;
		return request(method, url, body).then(function (data) {
			if (data && data.message)
				flash("warning", data.message);
			else
				flash("success", "Done: " +
				    question.replace(/<[^>]*>/g, "")
				    .replace(/^Are you sure you want to /, "")
				    .replace(/\?$/, ""));
			if (done)
				done();
		}, function (err) {
			flash("danger", err.message);
		});
	});
}

/* ---- sortable, filterable tables ---- */

/*
 * cols: [{key, title, num, get(row) -> sort value, cell(row) -> html}].
 * state: {sort, asc, filter} kept by the view across polls.
 */
function table(id, cols, rows, state, opts) {
	opts = opts || {};
	var col = null, i, out = [];
	for (i = 0; i < cols.length; i++)
		if (cols[i].key === state.sort)
			col = cols[i];
	if (state.filter && opts.filterKey) {
		var f = state.filter.toLowerCase();
		rows = rows.filter(function (r) {
			return opts.filterKey(r).toLowerCase().indexOf(f) >= 0;
		});
	}
	if (col) {
		var g = col.get || function (r) { return r[col.key]; };
		rows = rows.slice().sort(function (a, b) {
			var va = g(a), vb = g(b), c;
			if (va === undefined) va = col.num ? -1 : "";
			if (vb === undefined) vb = col.num ? -1 : "";
			c = va < vb ? -1 : va > vb ? 1 : 0;
			return state.asc ? c : -c;
		});
	}
	out.push('<table id="' + id + '"><thead><tr>');
	for (i = 0; i < cols.length; i++) {
		var c = cols[i], cls = [];
		if (c.num) cls.push("num");
		if (c.key) cls.push("sortable");
		if (c.key && c.key === state.sort)
			cls.push("sorted", state.asc ? "asc" : "desc");
		out.push('<th class="' + cls.join(" ") + '"' +
		    (c.key ? ' data-sort="' + c.key + '"' : "") + ">" +
		    esc(c.title) + "</th>");
	}
	out.push("</tr></thead><tbody>");
	if (opts.total)
		out.push(rowHtml(cols, opts.total, "total"));
	for (i = 0; i < rows.length; i++)
		out.push(rowHtml(cols, rows[i], ""));
	if (!rows.length)
		out.push('<tr><td colspan="' + cols.length +
		    '" class="muted">' + esc(opts.empty || "none") + "</td></tr>");
	out.push("</tbody></table>");
	return out.join("");
}

function rowHtml(cols, r, cls) {
	var s = "<tr" + (cls ? ' class="' + cls + '"' : "") + ">";
	for (var i = 0; i < cols.length; i++) {
		var c = cols[i];
		s += "<td" + (c.num ? ' class="num"' : "") + ">" +
		    (c.cell ? c.cell(r) : c.num ? esc(human(r[c.key])) :
		    esc(r[c.key])) + "</td>";
	}
	return s + "</tr>";
}

/* Clicking a header sorts by it; clicking again turns the order. */
function bindSort(root, states, rerender) {
	root.addEventListener("click", function (e) {
		var th = e.target.closest("th[data-sort]");
		if (!th)
			return;
		var st = states[th.closest("table").id];
		if (!st)
			return;
		if (st.sort === th.dataset.sort)
			st.asc = !st.asc;
		else {
			st.sort = th.dataset.sort;
			st.asc = !th.classList.contains("num");
		}
		rerender();
	});
}

function numCol(key, title, get) {
	return { key: key, title: title, num: true, get: get,
	    cell: get ? function (r) { return esc(human(get(r))); } : null };
}
function rateCol(key) {
	return { key: "rate", title: "Rate", num: true,
	    get: function (r) { return lastRate(key(r)); },
	    cell: function (r) { return esc(rateText(lastRate(key(r)))); } };
}
function memDisk(r) {
	return esc(human(r.memory_depth)) + " + " + esc(human(r.backend_depth));
}
function pausedLabel(r) {
	return r.paused ? ' <span class="label paused">paused</span>' : "";
}

/* ---- views ---- */

/*
 * A view is {title, nav, load() -> Promise of data, render(data, el)}.
 * load() runs at once and every POLL_MS; render gets the newest data.
 */

function topicsView() {
	var st = { topics: { sort: "name", asc: true, filter: "" } };
	var v = { nav: "topics", title: "Topics", data: null };
	v.load = function () {
		return Promise.all([get("/topics"), get("/nodes")]).then(
		    function (r) {
			var names = r[0].topics || [], nodes = r[1].nodes || [];
			var warn = [r[0].message, r[1].message];
			return Promise.all(nodes.map(function (n) {
				return get("/nodes/" + enc(nodeName(n))).catch(
				    function (e) {
					warn.push(nodeName(n) + ": " + e.message);
					return { topics: [] };
				});
			})).then(function (per) {
				return { names: names, per: per, warn: warn };
			});
		});
	};
	v.aggregate = function (d) {
		var by = {}, i, j, k, rows = [];
		for (i = 0; i < d.names.length; i++)
			by[d.names[i]] = { name: d.names[i], nodes: 0 };
		for (i = 0; i < d.per.length; i++) {
			var ts = d.per[i].topics || [];
			for (j = 0; j < ts.length; j++) {
				var t = ts[j], a = by[t.topic_name];
				if (!a)
					a = by[t.topic_name] =
					    { name: t.topic_name, nodes: 0 };
				a.nodes++;
				a.depth = (a.depth || 0) + t.depth;
				a.message_count = (a.message_count || 0) +
				    t.message_count;
				a.paused = a.paused || t.paused;
				a.chans = a.chans || {};
				a.chdepth = a.chdepth || 0;
				a.in_flight = a.in_flight || 0;
				for (k = 0; k < (t.channels || []).length; k++) {
					var c = t.channels[k];
					a.chans[c.channel_name] = 1;
					a.chdepth += c.depth;
					a.in_flight += c.in_flight_count;
				}
			}
		}
		var total = { name: "Total", depth: 0, chdepth: 0,
		    in_flight: 0, message_count: 0, channels: 0,
		    nodes: d.per.length };
		for (var n in by) {
			var row = by[n];
			row.channels = row.chans ? Object.keys(row.chans).length :
			    undefined;
			if (row.message_count !== undefined) {
				sample("t:" + n, row.message_count, row.depth +
				    row.chdepth, row.in_flight);
				total.depth += row.depth;
				total.chdepth += row.chdepth;
				total.in_flight += row.in_flight;
				total.message_count += row.message_count;
				total.channels += row.channels;
			}
			rows.push(row);
		}
		sample("t:*", total.message_count, total.depth + total.chdepth,
		    total.in_flight);
		return { rows: rows, total: total };
	};
	v.render = function (d, el) {
		if (!el.firstChild) {
			el.innerHTML = '<h2>Topics <small id="topic-count">' +
			    '</small></h2><div class="toolbar">' +
			    '<input type="search" id="filter" ' +
			    'placeholder="filter topics" autocomplete="off">' +
			    "</div>" + '<div id="topics-area"></div>';
			$("#filter", el).value = st.topics.filter;
			$("#filter", el).addEventListener("input", function (e) {
				st.topics.filter = e.target.value;
				v.draw(el);
			});
			bindSort(el, st, function () { v.draw(el); });
		}
		showWarning(d.warn.filter(Boolean).join("; "));
		v.agg = v.aggregate(d);
		v.draw(el);
	};
	v.draw = function (el) {
		var a = v.agg;
		var cols = [
			{ key: "name", title: "Topic", cell: function (r) {
				return r === a.total ? "Total" :
				    link("/topics/" + enc(r.name), r.name) +
				    pausedLabel(r);
			} },
			numCol("depth", "Depth"),
			numCol("chdepth", "Channel Depth"),
			numCol("in_flight", "In-Flight"),
			numCol("message_count", "Messages"),
			rateCol(function (r) {
				return r === a.total ? "t:*" : "t:" + r.name;
			}),
			{ title: "Trend", cell: function (r) {
				return spark(r === a.total ? "t:*" : "t:" + r.name);
			} },
			numCol("channels", "Channels"),
			numCol("nodes", "Nodes")
		];
		$("#topic-count", el).textContent = "(" + a.rows.length + ")";
		$("#topics-area", el).innerHTML = table("topics", cols, a.rows,
		    st.topics, { total: a.total, empty: "no topics",
		    filterKey: function (r) { return r.name; } });
	};
	return v;
}

/* ---- what the topic and channel views share ---- */

/* Their Empty, Delete and Pause buttons; what: "Topic" or "Channel". */
function queueButtons(what) {
	return '<div class="actions">' +
	    '<button class="warn" data-action="empty">Empty Queue</button>' +
	    '<button class="danger" data-action="delete">Delete ' + what +
	    "</button>" +
	    '<button id="pause" data-action="pause">Pause ' + what +
	    "</button></div>";
}

/* The paused label and the Pause button's state from d.paused. */
function drawPaused(el, d, what) {
	$("#paused", el).innerHTML = pausedLabel(d);
	var pb = $("#pause", el);
	pb.dataset.action = d.paused ? "unpause" : "pause";
	pb.textContent = (d.paused ? "Unpause " : "Pause ") + what;
}

/*
 * The views' action: asks about NAME, then DELETE url (and goes to
 * page path after) or POST it {action}.
 */
function queueAction(name, url, after) {
	return function (a) {
		var q = "Are you sure you want to <strong>" + esc(a) +
		    "</strong> <em>" + esc(name) + "</em>?";
		if (a === "delete")
			return act(q, "DELETE", url, undefined, function () {
				navigate(page(after));
			});
		return act(q, "POST", url, { action: a }, refresh);
	};
}

/*
 * A channel's queue columns after the first (a topic's channels, a
 * channel's nodes, a node's channels): the rate when rateKey is given,
 * the connections by conns(row) when that is.
 */
function channelCols(first, rateKey, conns) {
	var cols = [
		first,
		numCol("depth", "Depth"),
		{ title: "Memory + Disk", cell: memDisk },
		numCol("in_flight_count", "In-Flight"),
		numCol("deferred_count", "Deferred"),
		numCol("requeue_count", "Requeued"),
		numCol("timeout_count", "Timed Out"),
		numCol("message_count", "Messages")
	];
	if (rateKey)
		cols.push(rateCol(rateKey));
	cols.push(numCol("client_count", "Connections", conns));
	return cols;
}

function topicView(topic) {
	var st = { nodes: { sort: "node", asc: true },
	    channels: { sort: "channel_name", asc: true } };
	var v = { nav: "topics", title: topic };
	var url = api("/topics/" + enc(topic));
	v.load = function () {
		return Promise.all([get("/topics/" + enc(topic)),
		    historyQuery("topic=" + enc(topic))]).then(function (r) {
			r[0].hist = r[1];
			return r[0];
		});
	};
	v.render = function (d, el) {
		var i, nodes = d.nodes || [], chans = d.channels || [];
		var inflight = 0;
		for (i = 0; i < chans.length; i++) {
			var c = chans[i];
			inflight += c.in_flight_count;
			sample("c:" + topic + "/" + c.channel_name,
			    c.message_count, c.depth, c.in_flight_count);
		}
		for (i = 0; i < nodes.length; i++)
			sample("tn:" + topic + "@" + nodes[i].node,
			    nodes[i].message_count, nodes[i].depth, 0);
		if (d.message_count !== undefined)
			sample("t:" + topic, d.message_count, d.depth, inflight);
		showWarning(d.message);
		if (!el.firstChild) {
			el.innerHTML = '<h2>Topic <span class="name"></span>' +
			    '<span id="paused"></span></h2>' +
			    queueButtons("Topic") + "<div id=\"graph\"></div><h3>Topic Message Queue</h3>" +
			    '<div id="nodes-area"></div><h3>Channel Message Queues</h3>' +
			    '<div id="channels-area"></div>';
			$(".name", el).textContent = topic;
			el.addEventListener("click", function (e) {
				var b = e.target.closest("button[data-action]");
				if (b)
					v.action(b.dataset.action);
				b = e.target.closest("button[data-tombstone]");
				if (b)
					act("Are you sure you want to <strong>tombstone" +
					    "</strong> <em>" + esc(b.dataset.tombstone) +
					    "</em>?", "DELETE", api("/nodes/" +
					    enc(b.dataset.tombstone)), { topic: topic },
					    refresh);
			});
			bindSort(el, st, function () { v.draw(el); });
		}
		v.d = d;
		v.draw(el);
	};
	v.action = queueAction(topic, url, "/");
	v.draw = function (el) {
		var d = v.d, nodes = d.nodes || [];
		drawPaused(el, d, "Topic");
		$("#graph", el).innerHTML = graph(graphPoints(d.hist,
		    "t:" + topic), topic);
		if (!nodes.length) {
			$("#nodes-area", el).innerHTML = '<div class="alert ' +
			    'alert-warning"><strong>Notice</strong> No producers ' +
			    "exist for this topic.</div>";
		} else {
			$("#nodes-area", el).innerHTML = table("nodes", [
				{ key: "node", title: "NSQd Host", cell: function (r) {
					if (r === d)
						return "Total";
					return '<button class="link" title="tombstone ' +
					    'this topic on this node" data-tombstone="' +
					    esc(r.node) + '">✘</button>' +
					    link("/nodes/" + enc(r.node), r.node) +
					    pausedLabel(r);
				} },
				numCol("depth", "Depth"),
				{ title: "Memory + Disk", cell: memDisk },
				numCol("message_count", "Messages"),
				rateCol(function (r) {
					return r === d ? "t:" + topic :
					    "tn:" + topic + "@" + r.node;
				}),
				numCol("channels", "Channels", function (r) {
					return (r.channels || []).length;
				})
			], nodes, st.nodes, { total: d });
		}
		$("#channels-area", el).innerHTML = table("channels", channelCols(
			{ key: "channel_name", title: "Channel", cell: function (r) {
				return link("/topics/" + enc(topic) + "/" +
				    enc(r.channel_name), r.channel_name) +
				    pausedLabel(r);
			} },
			function (r) {
				return "c:" + topic + "/" + r.channel_name;
			}), d.channels || [], st.channels, { empty: "no channels" });
	};
	return v;
}

function clientAttrs(c) {
	var a = [];
	if (c.tls)
		a.push('<span class="label" title="' + esc((c.tls_version ||
		    "") + " " + (c.tls_cipher_suite || "")) + '">TLS</span>');
	if (c.deflate)
		a.push('<span class="label">Deflate</span>');
	if (c.snappy)
		a.push('<span class="label">Snappy</span>');
	if (c.sample_rate > 0)
		a.push('<span class="label">Sampled ' + esc(c.sample_rate) +
		    "%</span>");
	if (c.authed)
		a.push('<span class="label" title="' +
		    esc(c.auth_identity || "") + '">Authed</span>');
	return a.join("");
}

var clientCols = [
	{ key: "hostname", title: "Client Host", cell: function (r) {
		return esc(r.hostname || r.remote_address) +
		    (r.client_id && r.client_id !== r.hostname ?
		    ' <span class="muted">(' + esc(r.client_id) + ")</span>" : "") +
		    '<br><span class="muted">' + esc(r.remote_address) + "</span>";
	} },
	{ key: "user_agent", title: "User-Agent", cell: function (r) {
		return esc(r.user_agent || "") +
		    (r.version ? ' <span class="muted">' + esc(r.version) +
		    "</span>" : "");
	} },
	{ title: "Attributes", cell: clientAttrs },
	{ key: "node", title: "NSQd Host", cell: function (r) {
		return link("/nodes/" + enc(r.node), r.node);
	} },
	numCol("in_flight_count", "In-Flight"),
	numCol("ready_count", "Ready Count"),
	numCol("finish_count", "Finished"),
	numCol("requeue_count", "Requeued"),
	numCol("message_count", "Messages"),
	{ key: "connect_ts", title: "Connected", num: true,
	    get: function (r) { return -r.connect_ts; },
	    cell: function (r) {
		return esc(duration(Date.now() / 1000 - r.connect_ts));
	} }
];

function channelView(topic, channel) {
	var st = { nodes: { sort: "node", asc: true },
	    clients: { sort: "hostname", asc: true } };
	var v = { nav: "topics", title: topic + "/" + channel };
	var url = api("/topics/" + enc(topic) + "/" + enc(channel));
	var key = "c:" + topic + "/" + channel;
	v.load = function () {
		return Promise.all([
		    get("/topics/" + enc(topic) + "/" + enc(channel)),
		    historyQuery("topic=" + enc(topic) + "&channel=" +
		    enc(channel))]).then(function (r) {
			r[0].hist = r[1];
			return r[0];
		});
	};
	v.render = function (d, el) {
		var nodes = d.nodes || [], i;
		if (d.message_count !== undefined)
			sample(key, d.message_count, d.depth, d.in_flight_count);
		for (i = 0; i < nodes.length; i++)
			sample(key + "@" + nodes[i].node, nodes[i].message_count,
			    nodes[i].depth, nodes[i].in_flight_count);
		showWarning(d.message);
		if (!el.firstChild) {
			el.innerHTML = '<h2>' + link("/topics/" + enc(topic), topic) +
			    ' / Channel <span class="name"></span>' +
			    '<span id="paused"></span></h2>' +
			    queueButtons("Channel") + '<div id="graph"></div><h3>Channel</h3>' +
			    '<div id="nodes-area"></div><h3>Client Connections ' +
			    '<small id="client-count"></small></h3>' +
			    '<div id="clients-area"></div>';
			$(".name", el).textContent = channel;
			el.addEventListener("click", function (e) {
				var b = e.target.closest("button[data-action]");
				if (b)
					v.action(b.dataset.action);
			});
			bindSort(el, st, function () { v.draw(el); });
		}
		v.d = d;
		v.draw(el);
	};
	v.action = queueAction(topic + "/" + channel, url,
	    "/topics/" + enc(topic));
	v.draw = function (el) {
		var d = v.d, clients = d.clients || [];
		drawPaused(el, d, "Channel");
		$("#graph", el).innerHTML = graph(graphPoints(d.hist, key),
		    topic + "/" + channel);
		if (d.channel_name === undefined) {
			$("#nodes-area", el).innerHTML = '<div class="alert ' +
			    'alert-warning"><strong>Notice</strong> This channel ' +
			    "exists on no node.</div>";
		} else {
			$("#nodes-area", el).innerHTML = table("nodes", channelCols(
				{ key: "node", title: "NSQd Host", cell: function (r) {
					return r === d ? "Total" :
					    link("/nodes/" + enc(r.node), r.node) +
					    pausedLabel(r);
				} },
				function (r) {
					return r === d ? key : key + "@" + r.node;
				}), d.nodes || [], st.nodes, { total: d });
		}
		$("#client-count", el).textContent = "(" + clients.length + ")";
		$("#clients-area", el).innerHTML = table("clients", clientCols,
		    clients, st.clients, { empty: "no clients connected" });
	};
	return v;
}

function nodesView() {
	var st = { nodes: { sort: "hostname", asc: true, filter: "" } };
	var v = { nav: "nodes", title: "Nodes" };
	v.load = function () { return get("/nodes"); };
	v.render = function (d, el) {
		var nodes = d.nodes || [];
		showWarning(d.message);
		if (!el.firstChild) {
			el.innerHTML = '<h2>NSQd Nodes <small id="node-count">' +
			    '</small></h2><div id="nodes-area"></div>';
			bindSort(el, st, function () { v.draw(el); });
		}
		v.d = nodes;
		v.draw(el);
	};
	v.draw = function (el) {
		$("#node-count", el).textContent = "(" + v.d.length + ")";
		$("#nodes-area", el).innerHTML = table("nodes", [
			{ key: "hostname", title: "Hostname", cell: function (r) {
				return link("/nodes/" + enc(nodeName(r)), r.hostname);
			} },
			{ key: "broadcast_address", title: "Broadcast Address" },
			{ key: "tcp_port", title: "TCP Port", num: true,
			    cell: function (r) { return esc(r.tcp_port); } },
			{ key: "http_port", title: "HTTP Port", num: true,
			    cell: function (r) { return esc(r.http_port); } },
			{ key: "version", title: "Version", cell: function (r) {
				return esc(r.version) + (r.out_of_date ?
				    ' <span class="label warn">out of date</span>' :
				    "");
			} },
			numCol("lookupd", "Lookupd Conns.", function (r) {
				return (r.remote_addresses || []).length;
			}),
			{ title: "Topics", cell: function (r) {
				return (r.topics || []).map(function (t) {
					return '<a class="label' + (t.tombstoned ?
					    ' tomb" title="this topic is currently ' +
					    'tombstoned on this node' : "") + '" href="' +
					    esc(page("/topics/" + enc(t.topic))) +
					    '" data-nav>' + esc(t.topic) + "</a>";
				}).join("");
			} }
		], v.d, st.nodes, { empty: "no nodes" });
	};
	return v;
}

function nodeView(node) {
	var st = { topics: { sort: "topic_name", asc: true } };
	var v = { nav: "nodes", title: node };
	v.load = function () { return get("/nodes/" + enc(node)); };
	v.render = function (d, el) {
		var ts = d.topics || [], i;
		for (i = 0; i < ts.length; i++)
			sample("tn:" + ts[i].topic_name + "@" + node,
			    ts[i].message_count, ts[i].depth, 0);
		showWarning(d.message);
		if (!el.firstChild) {
			el.innerHTML = '<h2>Node <span class="name"></span></h2>' +
			    '<p id="totals"></p><div id="topics-area"></div>';
			$(".name", el).textContent = node;
			el.addEventListener("click", function (e) {
				var b = e.target.closest("button[data-tombstone]");
				if (b)
					act("Are you sure you want to <strong>" +
					    "tombstone</strong> <em>" + esc(node) +
					    "</em> for topic <em>" +
					    esc(b.dataset.tombstone) + "</em>?",
					    "DELETE", api("/nodes/" + enc(node)),
					    { topic: b.dataset.tombstone }, refresh);
			});
			bindSort(el, st, function () { v.draw(el); });
		}
		v.d = d;
		v.draw(el);
	};
	v.draw = function (el) {
		var d = v.d, rows = [];
		$("#totals", el).innerHTML = "<strong>" +
		    esc(human(d.total_messages)) + "</strong> messages, <strong>" +
		    esc(human(d.total_clients)) + "</strong> clients, <strong>" +
		    esc((d.topics || []).length) + "</strong> topics";
		(d.topics || []).forEach(function (t) { rows.push(t); });
		var html = table("topics", [
			{ key: "topic_name", title: "Topic", cell: function (r) {
				return '<button class="link" title="tombstone this ' +
				    'topic on this node" data-tombstone="' +
				    esc(r.topic_name) + '">✘</button>' +
				    link("/topics/" + enc(r.topic_name),
				    r.topic_name) + pausedLabel(r);
			} },
			numCol("depth", "Depth"),
			{ title: "Memory + Disk", cell: memDisk },
			numCol("message_count", "Messages"),
			rateCol(function (r) {
				return "tn:" + r.topic_name + "@" + node;
			}),
			numCol("channels", "Channels", function (r) {
				return (r.channels || []).length;
			})
		], rows, st.topics, { empty: "no topics on this node" });
		var ch = [];
		(d.topics || []).forEach(function (t) {
			(t.channels || []).forEach(function (c) { ch.push(c); });
		});
		html += "<h3>Channels</h3>" + table("node-channels", channelCols(
			{ title: "Channel", cell: function (r) {
				return link("/topics/" + enc(r.topic_name) + "/" +
				    enc(r.channel_name), r.topic_name + "/" +
				    r.channel_name) + pausedLabel(r);
			} }, null, function (r) {
				return (r.clients || []).length;
			}), ch, {}, { empty: "no channels" });
		var cl = [];
		ch.forEach(function (c) {
			(c.clients || []).forEach(function (x) { cl.push(x); });
		});
		html += "<h3>Client Connections</h3>" + table("node-clients",
		    clientCols, cl, {}, { empty: "no clients connected" });
		$("#topics-area", el).innerHTML = html;
	};
	return v;
}

function counterView() {
	var v = { nav: "counter", title: "Counter" }, shown = -1, target = 0;
	var timer = null;
	v.load = function () {
		return Promise.all([get("/counter"), historyQuery("")]).then(
		    function (r) {
			r[0].hist = r[1];
			return r[0];
		});
	};
	v.render = function (d, el) {
		var n = 0, k;
		for (k in d.stats || {})
			n += d.stats[k].message_count;
		sample("counter", n, 0, 0);
		showWarning(d.message);
		if (!el.firstChild)
			el.innerHTML = '<div class="counter"><div class="big" ' +
			    'id="count">0</div><p class="muted">messages processed' +
			    ' (<span id="count-rate">–</span>)</p></div>' +
			    '<div id="graph"></div>';
		$("#count-rate", el).textContent = rateText(lastRate("counter"));
		$("#graph", el).innerHTML = graph(graphPoints(d.hist, "counter"),
		    "processed");
		target = n;
		if (shown < 0)
			shown = n;
		/* Count up to the new total over the poll interval. */
		clearInterval(timer);
		var step = Math.max(1, (target - shown) / (POLL_MS / 50));
		var out = $("#count", el);
		out.textContent = Math.round(shown).toLocaleString("en-US");
		timer = setInterval(function () {
			shown = Math.min(target, shown + step);
			out.textContent = Math.round(shown).toLocaleString("en-US");
			if (shown >= target)
				clearInterval(timer);
		}, 50);
	};
	v.destroy = function () { clearInterval(timer); };
	return v;
}

function lookupView() {
	var v = { nav: "lookup", title: "Lookup", once: true };
	v.load = function () { return get("/topics?inactive=true"); };
	v.render = function (d, el) {
		var topics = d.topics || {}, names = Object.keys(topics).sort();
		showWarning(d.message);
		var html = "<h2>Lookup</h2>";
		if (CONF.lookupd.length)
			html += "<table id=\"lookupd\"><thead><tr><th>nsqlookupd " +
			    "Host</th></tr></thead><tbody>" +
			    CONF.lookupd.map(function (h) {
				return "<tr><td>" + esc(h) + "</td></tr>";
			}).join("") + "</tbody></table>";
		if (!names.length)
			html += '<div class="alert alert-info">No inactive topics ' +
			    "(in nsqlookupd, with no producer).</div>";
		else {
			html += "<h3>Inactive topics</h3><ul>";
			names.forEach(function (t) {
				html += "<li>" + link("/topics/" + enc(t), t) +
				    (topics[t] || []).map(function (c) {
					return ' <span class="label">' + esc(c) +
					    "</span>";
				}).join("") + "</li>";
			});
			html += "</ul>";
		}
		html += "<h3>Create topic or channel</h3>" +
		    '<div class="alert alert-info">Creates the topic (and the ' +
		    "channel, when given) in every nsqlookupd; nsqd nodes make " +
		    "it when a producer arrives.</div>" +
		    '<form class="lookup" id="create"><input type="text" ' +
		    'name="topic" placeholder="topic" required ' +
		    'autocomplete="off"><input type="text" name="channel" ' +
		    'placeholder="channel (optional)" autocomplete="off">' +
		    '<button type="submit">Create</button></form>';
		el.innerHTML = html;
		$("#create", el).addEventListener("submit", function (e) {
			e.preventDefault();
			var f = e.target, body = { topic: f.topic.value.trim() };
			if (f.channel.value.trim())
				body.channel = f.channel.value.trim();
			request("POST", api("/topics"), body).then(function (r) {
				if (r && r.message)
					flash("warning", r.message);
				else
					flash("success", "Created " + body.topic +
					    (body.channel ? "/" + body.channel : ""));
				refresh();
			}, function (err) { flash("danger", err.message); });
		});
	};
	return v;
}

/* ---- router and poller ---- */

var current = null, viewEl = null, timer = null, seq = 0;

function route(path) {
	var p = path.slice(BASE.length).replace(/\/+$/, "");
	var m, parts = p.split("/").slice(1).map(function (s) {
		try {
			return decodeURIComponent(s);
		} catch (e) {
			return s;
		}
	});
	if (p === "" || p === "/topics")
		return topicsView();
	if ((m = parts)[0] === "topics" && m.length === 2)
		return topicView(m[1]);
	if (m[0] === "topics" && m.length === 3)
		return channelView(m[1], m[2]);
	if (p === "/nodes")
		return nodesView();
	if (m[0] === "nodes" && m.length === 2)
		return nodeView(m[1]);
	if (p === "/counter")
		return counterView();
	if (p === "/lookup")
		return lookupView();
	return null;
}

/*
 * Loads the shown view's data; a view that failed to load shows Go's
 * error in place of itself and is tried again at the next poll.
 */
function refresh() {
	var v = current, my = ++seq;
	if (!v)
		return Promise.resolve();
	clearTimeout(timer);
	return v.load().then(function (d) {
		if (v !== current || my !== seq)
			return;
		showError("");
		if (v.failed) {
			viewEl.replaceChildren();
			v.failed = false;
		}
		v.render(d, viewEl);
		$("#status").textContent = "updated " +
		    new Date().toLocaleTimeString();
		document.body.dataset.loaded = String(my);
	}, function (err) {
		if (v !== current || my !== seq)
			return;
		showWarning("");
		v.failed = true;
		viewEl.innerHTML = '<div class="alert alert-danger" ' +
		    'id="view-error"></div>';
		$("#view-error").textContent = err.message;
		document.body.dataset.loaded = String(my);
	}).then(function () {
		if (v === current && my === seq && !v.once)
			timer = setTimeout(refresh, POLL_MS);
	});
}

function show() {
	if (current && current.destroy)
		current.destroy();
	clearTimeout(timer);
	current = route(location.pathname);
	viewEl = $("#view");
	viewEl.replaceChildren();
	showWarning("");
	showError("");
	document.body.dataset.loaded = "";
	document.querySelectorAll("#bar nav a").forEach(function (a) {
		a.classList.toggle("active", current &&
		    a.dataset.view === current.nav);
	});
	if (!current) {
		viewEl.innerHTML = '<div class="alert alert-danger">' +
		    "NOT_FOUND</div>";
		return;
	}
	document.title = "nsqadmin - " + current.title;
	refresh();
}

function navigate(url) {
	if (url !== location.pathname)
		history_push(url);
	show();
}
function history_push(url) { window.history.pushState(null, "", url); }

document.addEventListener("click", function (e) {
	var a = e.target.closest("a[data-nav]");
	if (!a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey ||
	    e.altKey)
		return;
	e.preventDefault();
	navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", show);
/* A hidden tab stops polling; coming back fetches at once. */
document.addEventListener("visibilitychange", function () {
	if (document.hidden)
		clearTimeout(timer);
	else
		refresh();
});

/* Actions are offered to admins only, as on Go's page. */
if (!CONF.isAdmin)
	document.body.classList.add("not-admin");
if (CONF.version && CONF.version.indexOf("{{") !== 0)
	$("#version").textContent = "v" + CONF.version;
document.querySelectorAll("#bar a[data-nav]").forEach(function (a) {
	a.setAttribute("href", page(a.getAttribute("href")));
});
show();
})();

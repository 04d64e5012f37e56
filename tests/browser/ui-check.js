#!/usr/bin/env node
/*
 * Drives nsqadmin's page in Debian's headless chromium and checks what it
 * shows against the nsqd nodes themselves (their /stats).
 *
 *   node ui-check.js --admin URL --nsqd HOST:PORT[,HOST:PORT...]
 *       --topic T --channel C --empty-topic T2 --empty-channel C2
 *       --shots DIR [--lookupd HOST:PORT] [--timeout SECONDS]
 *   node ui-check.js --admin URL --nsqd ADDRS --many N [--timeout SECONDS]
 *   node ui-check.js --admin URL --nsqd ADDRS --smoke T [--timeout SECONDS]
 *   node ui-check.js --admin URL --nsqd ADDRS --dead HOST:PORT
 *
 * With --many, it checks only the topics list of a cluster that has at
 * least N topics: every one shown, the filter working, and a poll that
 * costs a few requests (the lists and one per node), not one per topic.
 * With --smoke, it opens the topics list (URL may hold a --base-path),
 * follows the link to topic T and checks its channels are listed.
 * With --dead, nsqadmin is given a node that does not answer: the views
 * must show the API's own message about it, as Go's page does (above
 * the view for a partial failure, in place of it for a failed one).
 *
 * --topic/--channel must have a consumer connected and messages flowing
 * (the graph and the clients table are checked on them); the channel is
 * paused by a click.  --empty-topic/--empty-channel must hold messages
 * and get no more: it is emptied by a click and must reach depth 0 on
 * every node.  With --stash-topic (messages at the topic, no channel)
 * and --doomed-topic/--doomed-channel (on every node, --lookupd given),
 * the topic actions are clicked too: see topicActions.  A screenshot of
 * each view goes to DIR/<view>.png.
 *
 * Each check prints one TAP-like line "ok - ..." or "not ok - ..."; the
 * last line is "summary: passed=N failed=N"; exit 0 only when all passed
 * (1 a check failed, 2 usage, 3 the overall deadline passed).
 */
"use strict";

const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

function usage(msg) {
	if (msg)
		console.error("ui-check.js: " + msg);
	console.error("usage: node ui-check.js --admin URL --nsqd ADDRS " +
	    "--topic T --channel C --empty-topic T --empty-channel C " +
	    "--shots DIR [--lookupd ADDR] [--stash-topic T --doomed-topic T " +
	    "--doomed-channel C] [--timeout SECONDS]");
	process.exit(2);
}

const opt = { timeout: "120" };
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (a === "--help" || a === "-h")
		usage();
	if (!a.startsWith("--") || i + 1 >= process.argv.length)
		usage("bad argument " + a);
	opt[a.slice(2).replace(/-/g, "_")] = process.argv[++i];
}
for (const k of opt.many || opt.smoke || opt.dead ? ["admin", "nsqd"] : ["admin", "nsqd", "topic",
    "channel", "empty_topic", "empty_channel", "shots"])
	if (!opt[k])
		usage("--" + k.replace(/_/g, "-") + " is required");
const nsqds = opt.nsqd.split(",");
const admin = opt.admin.replace(/\/$/, "");
const deadline = setTimeout(() => {
	console.log("not ok - deadline of " + opt.timeout + " s passed");
	console.log(`summary: passed=${passed} failed=${failed + 1}`);
	process.exit(3);
}, Number(opt.timeout) * 1000);

let passed = 0, failed = 0;
function check(cond, what, detail) {
	if (cond) {
		passed++;
		console.log("ok - " + what);
	} else {
		failed++;
		console.log("not ok - " + what + (detail ? ": " + detail : ""));
	}
	return cond;
}

async function json(url, opts) {
	const res = await fetch(url, opts);
	const text = await res.text();
	if (!res.ok)
		throw new Error(url + ": " + res.status + " " + text);
	return text ? JSON.parse(text) : {};
}

async function stats() {
	return Promise.all(nsqds.map((n) =>
	    json(`http://${n}/stats?format=json`)));
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

/* Polls fn (async, returns truthy when done) every 250 ms up to secs. */
async function until(secs, fn) {
	const end = Date.now() + secs * 1000;
	let last;
	while (Date.now() < end) {
		try {
			last = await fn();
			if (last)
				return last;
		} catch (e) {
			last = e;
		}
		await sleep(250);
	}
	return null;
}

function same(a, b) {
	a = [...new Set(a)].sort();
	b = [...new Set(b)].sort();
	return JSON.stringify(a) === JSON.stringify(b);
}

async function open(page, p) {
	await page.goto(admin + p, { waitUntil: "domcontentloaded" });
	await page.waitForFunction(() => document.body.dataset.loaded,
	    { timeout: 20000 });
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(opt.shots, name + ".png"),
	    fullPage: true });
}

/* Column texts of a table's body rows, the total row left out. */
function column(page, sel, n) {
	return page.$$eval(sel + " tbody tr:not(.total)", (rows, i) =>
	    rows.filter((r) => r.cells.length > i)
	    .map((r) => r.cells[i].textContent.replace("✘", "").trim()), n);
}

/* Clicks a button, then the confirmation's OK (or Cancel). */
async function confirmClick(page, sel, ok) {
	await page.click(sel);
	await page.waitForSelector("#confirm[open]", { timeout: 5000 });
	const q = await page.$eval("#confirm-text", (e) => e.textContent);
	await page.click(ok ? "#confirm-ok" : "#confirm-cancel");
	await page.waitForFunction(() => !document.querySelector("#confirm[open]"),
	    { timeout: 5000 });
	return q;
}

/*
 * Clicks sel and dismisses the confirmation: measure() (a count, above
 * 0 before) must read the same after.
 */
async function dismissKeeps(page, sel, measure, what) {
	const before = await measure();
	await confirmClick(page, sel, false);
	await sleep(500);
	const after = await measure();
	check(before > 0 && after === before, what + " (" + before + ")",
	    "now " + after);
}

async function main() {
	if (opt.shots)
		fs.mkdirSync(opt.shots, { recursive: true });
	const browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true,
		args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		    "--no-first-run", "--no-default-browser-check"],
	});
	try {
		const page = await browser.newPage();
		await page.setViewport({ width: 1280, height: 800 });
		const errors = [];
		page.on("pageerror", (e) => errors.push(String(e)));
		await (opt.many ? many(page) : opt.smoke ? smoke(page) :
		    opt.dead ? dead(page) : run(page));
		check(errors.length === 0, "no script error on the page",
		    errors.join("; "));
	} finally {
		await browser.close();
	}
}

async function run(page) {
	const { topic, channel } = opt;
	let st = await stats();

	/* Topics: the names every nsqd has, and the count of channels. */
	await open(page, "/");
	await page.waitForSelector("#topics tbody tr");
	const want = st.flatMap((s) => s.topics.map((t) => t.topic_name));
	const shown = await until(10, async () => {
		const names = await column(page, "#topics", 0);
		return same(names, want) ? names : null;
	});
	check(shown, "topics list shows the topics of every nsqd",
	    "page " + (await column(page, "#topics", 0)) + " nsqd " + want);
	const rowRate = await until(20, () => page.$$eval("#topics tbody tr",
	    (rows) => rows.some((r) => /\/s$/.test(r.cells[5].textContent) &&
	    r.querySelector("svg.spark polyline"))));
	check(rowRate, "topics list shows a rate and a spark line");
	await page.type("#filter", opt.empty_topic);
	const filtered = await column(page, "#topics", 0);
	check(same(filtered, [opt.empty_topic]), "the filter keeps the " +
	    "matching topic only", filtered.join(","));
	await page.$eval("#filter", (e) => { e.value = ""; });
	await page.type("#filter", " ");
	await page.keyboard.press("Backspace");
	await page.click('#topics th[data-sort="message_count"]');
	/* Numbers read 1.2k: parsed back, they must come largest first. */
	const unhuman = (t) => {
		const m = /^([\d.]+)([kMBT]?)$/.exec(t.trim());
		return m ? Number(m[1]) * { "": 1, k: 1e3, M: 1e6, B: 1e9,
		    T: 1e12 }[m[2]] : -1;
	};
	const counts = (await page.$$eval("#topics tbody tr:not(.total)",
	    (rows) => rows.map((r) => r.cells[4].textContent))).map(unhuman);
	check(counts.length === new Set(want).size && counts.every((c, i) =>
	    i === 0 || counts[i - 1] >= c), "sorting by messages: every " +
	    "row, largest first", counts.join(","));
	await shot(page, "topics");

	/* A topic: a row per node that has it, its channels, a graph. */
	await open(page, "/topics/" + encodeURIComponent(topic));
	await page.waitForSelector("#channels tbody tr");
	st = await stats();
	const tnodes = st.filter((s) => s.topics.some((t) =>
	    t.topic_name === topic)).length;
	const chans = st.flatMap((s) => s.topics.filter((t) =>
	    t.topic_name === topic).flatMap((t) =>
	    t.channels.map((c) => c.channel_name)));
	const pageChans = await column(page, "#channels", 0);
	check(same(pageChans.map((c) => c.replace(/ paused$/, "")), chans),
	    "topic view shows its channels", pageChans + " vs " + chans);
	const nodeRows = await column(page, "#nodes", 0);
	check(nodeRows.length === tnodes, "topic view has a row per node",
	    nodeRows.length + " vs " + tnodes);
	/* Five points, so that the screenshot shows a line worth a look. */
	const drawn = await until(60, () => page.$eval("#graph path.rate",
	    (p) => (p.getAttribute("d").match(/[ML]/g) || []).length >= 5 &&
	    /^M[\d.]+ [\d.]+L/.test(p.getAttribute("d")))
	    .catch(() => false));
	check(drawn, "topic graph has drawn data (an SVG path of 5 points)");
	await shot(page, "topic");

	/* A channel: its clients, as nsqd lists them. */
	await open(page, "/topics/" + encodeURIComponent(topic) + "/" +
	    encodeURIComponent(channel));
	await page.waitForSelector("#clients tbody tr");
	st = await stats();
	const clients = st.flatMap((s) => s.topics.filter((t) =>
	    t.topic_name === topic).flatMap((t) => t.channels.filter((c) =>
	    c.channel_name === channel).flatMap((c) => c.clients)));
	const rows = await until(10, async () => {
		const r = await column(page, "#clients", 0);
		return r.length === clients.length && r.length > 0 ? r : null;
	});
	check(rows, "channel view lists its clients", clients.length +
	    " at nsqd");
	if (clients.length) {
		const txt = await page.$eval("#clients", (t) => t.textContent);
		check(txt.includes(clients[0].hostname) &&
		    txt.includes(clients[0].user_agent || ""),
		    "client row shows hostname and user agent");
	}
	const cdrawn = await until(40, () => page.$eval("#graph path.rate",
	    (p) => /L/.test(p.getAttribute("d"))).catch(() => false));
	check(cdrawn, "channel graph has drawn data");
	await shot(page, "channel");

	/* Pause by click, after the confirmation; every nsqd says paused. */
	const q = await confirmClick(page, '#pause[data-action="pause"]', true);
	check(/pause/.test(q) && q.includes(topic + "/" + channel),
	    "pause asks for confirmation", q);
	const paused = await until(15, async () => {
		const s = await stats();
		const cs = s.flatMap((x) => x.topics.filter((t) =>
		    t.topic_name === topic).flatMap((t) => t.channels.filter(
		    (c) => c.channel_name === channel)));
		return cs.length && cs.every((c) => c.paused);
	});
	check(paused, "every nsqd reports the channel paused");
	const label = await until(15, () => page.$eval("#pause",
	    (b) => b.dataset.action === "unpause"));
	check(label, "the page shows the channel paused (Unpause offered)");
	const flashText = await page.$eval("#flash", (e) => e.textContent);
	check(/Done/.test(flashText), "the result is shown", flashText);
	await shot(page, "channel-paused");

	/* Unpause again: the consumer must keep flowing for the rest. */
	await confirmClick(page, '#pause[data-action="unpause"]', true);
	check(await until(15, async () => (await stats()).every((x) =>
	    x.topics.filter((t) => t.topic_name === topic).every((t) =>
	    t.channels.filter((c) => c.channel_name === channel).every(
	    (c) => !c.paused)))), "unpause by click reaches every nsqd");

	/* Empty, cancelled first (nothing happens), then confirmed. */
	const depthOf = async () => (await stats()).flatMap((x) =>
	    x.topics.filter((t) => t.topic_name === opt.empty_topic).flatMap(
	    (t) => t.channels.filter((c) => c.channel_name ===
	    opt.empty_channel))).reduce((n, c) => n + c.depth, 0);
	await open(page, "/topics/" + encodeURIComponent(opt.empty_topic) +
	    "/" + encodeURIComponent(opt.empty_channel));
	await dismissKeeps(page, 'button[data-action="empty"]', depthOf,
	    "empty cancelled leaves the depth");
	await confirmClick(page, 'button[data-action="empty"]', true);
	check(await until(15, async () => (await depthOf()) === 0),
	    "empty confirmed: depth 0 on every nsqd");
	const pdepth = await until(15, () => page.$eval("#nodes tr.total",
	    (r) => r.cells[1].textContent === "0").catch(() => false));
	check(pdepth, "the page shows depth 0");

	/* Nodes and a node. */
	await open(page, "/nodes");
	await page.waitForSelector("#nodes tbody tr");
	const nrows = await column(page, "#nodes", 0);
	check(nrows.length === nsqds.length, "nodes view lists every nsqd",
	    nrows.length + " rows");
	await shot(page, "nodes");
	await page.click("#nodes tbody tr a[data-nav]");
	await page.waitForSelector("#topics tbody tr");
	const ntopics = await column(page, "#topics", 0);
	check(ntopics.length > 0, "node view lists its topics",
	    ntopics.join(","));
	await shot(page, "node");

	/* Counter: the messages processed, and moving. */
	await open(page, "/counter");
	const n = await until(10, () => page.$eval("#count", (e) =>
	    Number(e.textContent.replace(/,/g, ""))));
	check(n > 0, "counter shows messages processed", String(n));
	await sleep(3500);
	await shot(page, "counter");

	/* Lookup: create a topic and a channel in nsqlookupd. */
	await open(page, "/lookup");
	await shot(page, "lookup");
	if (opt.lookupd) {
		await page.type('#create input[name="topic"]', "made_by_page");
		await page.type('#create input[name="channel"]', "ch1");
		await page.click('#create button[type="submit"]');
		const made = await until(10, async () => {
			const r = await json(`http://${opt.lookupd}/channels?` +
			    "topic=made_by_page");
			return (r.channels || []).includes("ch1");
		});
		check(made, "lookup view creates a topic and channel in " +
		    "nsqlookupd");
	}

	/* Delete, cancelled: the topic stays. */
	await open(page, "/topics/" + encodeURIComponent(opt.empty_topic));
	await confirmClick(page, 'button[data-action="delete"]', false);
	await sleep(500);
	st = await stats();
	check(st.some((s) => s.topics.some((t) => t.topic_name ===
	    opt.empty_topic)), "delete cancelled leaves the topic");

	if (opt.stash_topic)
		await topicActions(page);
}

/* The topic named on every nsqd's /stats, each an object or undefined. */
async function topicOnEach(name) {
	return (await stats()).map((s) => s.topics.find((t) =>
	    t.topic_name === name));
}

/* The producers nsqlookupd's /lookup lists for a topic ([] on 404). */
async function lookupProducers(topic) {
	const r = await fetch(`http://${opt.lookupd}/lookup?topic=` +
	    encodeURIComponent(topic));
	if (r.status === 404)
		return [];
	const j = await r.json();
	return ((j.data || j).producers || []).map((p) =>
	    p.broadcast_address + ":" + p.http_port);
}

/*
 * Topic-level actions, each cancelled first (nothing changes), then
 * confirmed and checked on every nsqd (and nsqlookupd): pause and
 * unpause --stash-topic, empty it (depth 0 everywhere), tombstone
 * --doomed-topic on the first node, delete its channel --doomed-channel,
 * then the topic itself.
 */
async function topicActions(page) {
	const stash = opt.stash_topic, doomed = opt.doomed_topic;
	const dchan = opt.doomed_channel;
	const tpath = (t) => "/topics/" + encodeURIComponent(t);

	await open(page, tpath(stash));
	await page.waitForSelector('#pause[data-action="pause"]');
	let q = await confirmClick(page, '#pause[data-action="pause"]', false);
	await sleep(500);
	let ts = await topicOnEach(stash);
	check(ts.every((t) => t && !t.paused), "topic pause cancelled: " +
	    "no nsqd reports it paused", q);
	q = await confirmClick(page, '#pause[data-action="pause"]', true);
	check(/pause/.test(q) && q.includes(stash), "topic pause asks for " +
	    "confirmation", q);
	check(await until(15, async () => (await topicOnEach(stash)).every(
	    (t) => t && t.paused)), "topic pause by click: every nsqd " +
	    "reports it paused");
	check(await until(15, () => page.$eval("#pause",
	    (b) => b.dataset.action === "unpause")), "the page shows the " +
	    "topic paused (Unpause offered)");
	const flashText = await page.$eval("#flash", (e) => e.textContent);
	check(/Done: pause/.test(flashText), "the topic pause's result is " +
	    "shown", flashText);
	await shot(page, "topic-paused");
	await confirmClick(page, '#pause[data-action="unpause"]', true);
	check(await until(15, async () => (await topicOnEach(stash)).every(
	    (t) => t && !t.paused)), "topic unpause by click: every nsqd " +
	    "reports it unpaused");

	/* Empty: the topic's own depth (it has no channel). */
	const depth = async () => (await topicOnEach(stash)).reduce(
	    (n, t) => n + (t ? t.depth : 0), 0);
	await dismissKeeps(page, 'button[data-action="empty"]', depth,
	    "topic empty cancelled leaves the depth");
	await confirmClick(page, 'button[data-action="empty"]', true);
	check(await until(15, async () => (await topicOnEach(stash)).every(
	    (t) => t && t.depth === 0)), "topic empty by click: depth 0 on " +
	    "every nsqd");
	check(await until(15, () => page.$eval("#nodes tr.total",
	    (r) => r.cells[1].textContent === "0").catch(() => false)),
	    "the page shows the topic's depth 0");
	await shot(page, "topic-emptied");

	/* Tombstone on the first node, by the ✘ of its row. */
	const node = nsqds[0];
	const tomb = `#nodes button[data-tombstone="${node}"]`;
	const listed = await until(20, async () => {
		const p = await lookupProducers(doomed);
		return nsqds.every((n) => p.includes(n)) ? p : null;
	});
	check(listed, "nsqlookupd lists every node for " + doomed);
	await open(page, tpath(doomed));
	await page.waitForSelector(tomb);
	q = await confirmClick(page, tomb, false);
	await sleep(500);
	check(/tombstone/.test(q) && q.includes(node) &&
	    (await lookupProducers(doomed)).includes(node),
	    "tombstone cancelled: nsqlookupd still lists " + node, q);
	await confirmClick(page, tomb, true);
	const gone = await until(15, async () => {
		const p = await lookupProducers(doomed);
		return !p.includes(node) && nsqds.slice(1).every((n) =>
		    p.includes(n)) ? p : null;
	});
	check(gone, "tombstone by click: nsqlookupd's /lookup no longer " +
	    "lists " + node + ", still the others",
	    String(await lookupProducers(doomed)));
	check(await until(15, () => page.$$eval("#nodes tbody tr:not(.total)",
	    (r, n) => !r.some((x) => x.textContent.includes(n)), node)
	    .catch(() => false)), "the topic view drops the tombstoned node");
	await shot(page, "tombstoned");

	/* Delete the channel, then the topic, from their own views. */
	const chanOn = async () => (await topicOnEach(doomed)).filter((t) =>
	    t && t.channels.some((c) => c.channel_name === dchan)).length;
	const lookupChans = async () => {
		const r = await json(`http://${opt.lookupd}/channels?topic=` +
		    encodeURIComponent(doomed));
		return (r.data || r).channels || [];
	};
	await open(page, tpath(doomed) + "/" + encodeURIComponent(dchan));
	await page.waitForSelector('button[data-action="delete"]');
	await dismissKeeps(page, 'button[data-action="delete"]', chanOn,
	    "channel delete cancelled leaves it on the nsqd nodes, count");
	await confirmClick(page, 'button[data-action="delete"]', true);
	check(await until(15, async () => (await chanOn()) === 0 &&
	    !(await lookupChans()).includes(dchan)), "channel delete by " +
	    "click: gone from every nsqd and nsqlookupd");
	check(await until(10, () => page.url() === admin + tpath(doomed)),
	    "after deleting, the page shows the topic", page.url());
	await page.waitForFunction(() => document.body.dataset.loaded,
	    { timeout: 20000 });
	await shot(page, "channel-deleted");

	await open(page, tpath(doomed));
	await page.waitForSelector('button[data-action="delete"]');
	await confirmClick(page, 'button[data-action="delete"]', true);
	const lookupTopics = async () => {
		const r = await json(`http://${opt.lookupd}/topics`);
		return (r.data || r).topics || [];
	};
	check(await until(15, async () => (await topicOnEach(doomed)).every(
	    (t) => !t) && !(await lookupTopics()).includes(doomed) &&
	    (await lookupProducers(doomed)).length === 0),
	    "topic delete by click: gone from every nsqd and nsqlookupd");
	check(await until(10, () => page.url() === admin + "/"),
	    "after deleting, the page shows the topics list", page.url());
	check(await until(10, async () => !(await column(page, "#topics", 0))
	    .includes(doomed)), "the topics list no longer shows " + doomed);
	await shot(page, "topic-deleted");
}

async function dead(page) {
	for (const [view, ep, sel] of [["/", "/topics", "#warning"],
	    ["/nodes", "/nodes", "#warning"],
	    ["/nodes/" + opt.dead, "/nodes/" + opt.dead, "#view-error"]]) {
		const r = await fetch(admin + "/api" + ep);
		const msg = (await r.json()).message;
		await open(page, view);
		const shown = await until(10, () => page.$eval(sel, (e) =>
		    !e.hidden && e.textContent).catch(() => null));
		/* curl's "after N ms" differs from one request to the next. */
		const norm = (t) => String(t).replace(/after \d+ ms/g, "after N ms");
		check(msg && shown && norm(shown).includes(norm(msg)),
		    view + " shows " +
		    "the API's message: " + msg, "page: " + shown);
		if (opt.shots)
			await shot(page, "dead-node" + view.replace(/\W+/g, "-"));
	}
}

/* The list, then a topic reached by its link, as a person would. */
async function smoke(page) {
	await open(page, "");
	const sel = '#topics a[data-nav][href$="/topics/' +
	    encodeURIComponent(opt.smoke) + '"]';
	const a = await page.waitForSelector(sel, { timeout: 10000 })
	    .catch(() => null);
	check(a, "topics list links to " + opt.smoke);
	if (!a)
		return;
	await a.click();
	const chans = await page.waitForSelector("#channels tbody tr a",
	    { timeout: 10000 }).catch(() => null);
	check(chans && page.url() === admin + "/topics/" +
	    encodeURIComponent(opt.smoke), "the topic view opens below " +
	    "the base path with its channels", page.url());
}

/* The topics list of a large cluster, and what one poll costs. */
async function many(page) {
	const n = Number(opt.many);
	let reqs = [];
	page.on("request", (r) => reqs.push(r.url()));
	await open(page, "/");
	const rows = await until(30, async () => {
		const c = await page.$$eval("#topics tbody tr:not(.total)",
		    (r) => r.length);
		return c >= n ? c : null;
	});
	check(rows, "topics list shows all " + n + " topics", String(rows));
	/* Two polls' worth of requests, after the page settled. */
	await sleep(500);
	reqs = [];
	await sleep(6500);
	const api = reqs.filter((u) => u.includes("/api/"));
	const per = 2 + nsqds.length;
	check(api.length > 0 && api.length <= 3 * per, "a poll costs the " +
	    "lists and one request per node (" + api.length + " in 6.5 s)",
	    api.slice(0, 10).join(" "));
	await page.type("#filter", "many_77");
	const shown = await until(5, async () => {
		const r = await column(page, "#topics", 0);
		return r.length >= 1 && r.every((x) => x.includes("many_77")) ?
		    r : null;
	});
	check(shown, "the filter narrows " + n + " topics", String(shown));
}

main().then(() => {
	clearTimeout(deadline);
	console.log(`summary: passed=${passed} failed=${failed}`);
	process.exit(failed ? 1 : 0);
}, (e) => {
	clearTimeout(deadline);
	console.log("not ok - " + (e && e.stack || e));
	console.log(`summary: passed=${passed} failed=${failed + 1}`);
	process.exit(1);
});

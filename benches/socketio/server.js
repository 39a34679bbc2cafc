// One node of the reference stack: the usual Node.js way to run live polls (Express for
// REST, Socket.IO with the Redis adapter for live tallies, MySQL/MariaDB for the votes).
// It serves the part of votewire's REST contract that loadgen's `write` scenario uses, so
// BENCHMARKS.md can measure votewire's durable writes against this stack on the same
// machine instead of quoting a figure. See README.md beside this file.
//
// Environment: PORT, NODE_ID, MYSQL_URL (mysql://user[:pass]@host:port/database),
// REDIS_URL (redis://host:port), HOST (where to listen; 127.0.0.1 by default: nginx is
// in front).
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');
const express = require('express');
const mysql = require('mysql2/promise');
const { createClient } = require('redis');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');

const PORT = Number(process.env.PORT || 28301);
const HOST = process.env.HOST || '127.0.0.1';
const NODE_ID = process.env.NODE_ID || `node-${PORT}`;
const MYSQL_URL = process.env.MYSQL_URL || 'mysql://root@127.0.0.1:3306/socketio_bench';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

// The same limits and id shape as votewire's defaults, so both refuse the same bodies.
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_QUESTION_CHARS = 280;
const MAX_OPTION_CHARS = 100;
const MIN_OPTIONS = 2;
const MAX_OPTIONS = 32;

// Errors in votewire's shape: {"error": {"code", "message"}}.
function fail(res, status, code, message) {
  return res.status(status).json({ error: { code, message } });
}

// Random ids and tokens, URL-safe: 12 characters for a poll, 32 for a token.
const randomId = (bytes) => crypto.randomBytes(bytes).toString('base64url');

// Creates the database (when the URL names one that is missing) and the two tables.
// All three nodes do this at once on a fresh database: IF NOT EXISTS makes it safe.
async function createSchema() {
  const url = new URL(MYSQL_URL);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(database)) {
    throw new Error(`MYSQL_URL must name a database of [A-Za-z0-9_], not '${database}'`);
  }
  const admin = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  });
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
    await admin.query(`USE \`${database}\``);
    await admin.query(`CREATE TABLE IF NOT EXISTS polls (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      question TEXT NOT NULL,
      options JSON NOT NULL
    ) ENGINE=InnoDB`);
    // The primary key is what makes a voter count once per poll: a second vote by the
    // same voter updates the row (ON DUPLICATE KEY) instead of adding one.
    await admin.query(`CREATE TABLE IF NOT EXISTS votes (
      poll VARCHAR(64) NOT NULL,
      voter VARCHAR(64) NOT NULL,
      option_index INT NOT NULL,
      PRIMARY KEY (poll, voter)
    ) ENGINE=InnoDB`);
  } finally {
    await admin.end();
  }
}

async function main() {
  await createSchema();
  // Autocommit per statement, as the usual stack runs: each vote's INSERT is its own
  // transaction, committed (and flushed, with InnoDB's defaults) before the recount.
  const pool = mysql.createPool({ uri: MYSQL_URL, connectionLimit: 16 });

  // Polls never change in this subset of the contract (no edit or delete), so a node
  // keeps the ones it has read: a vote then costs the INSERT and the recount only, as in
  // a tuned app, not an extra SELECT of the poll. A miss is not cached, so a poll created
  // through another node is found on its first vote here.
  const polls = new Map();
  function remember(poll) {
    if (polls.size >= 10000) polls.clear(); // a bound, for long runs with many polls
    polls.set(poll.id, poll);
  }
  async function findPoll(id) {
    if (!ID.test(id)) return null;
    let poll = polls.get(id);
    if (poll) return poll;
    const [rows] = await pool.execute('SELECT id, question, options FROM polls WHERE id = ?', [id]);
    if (rows.length === 0) return null;
    const row = rows[0];
    // MariaDB's JSON is LONGTEXT (a string here); MySQL's arrives parsed.
    const options = typeof row.options === 'string' ? JSON.parse(row.options) : row.options;
    poll = { id: row.id, question: row.question, options };
    remember(poll);
    return poll;
  }

  // The tally as the usual stack gets it: a GROUP BY over the poll's votes, every time.
  // There is no version column: the version is the number of votes in the poll.
  async function tallyOf(poll) {
    const [rows] = await pool.execute(
      'SELECT option_index, COUNT(*) AS n FROM votes WHERE poll = ? GROUP BY option_index',
      [poll.id],
    );
    const counts = poll.options.map(() => 0);
    for (const row of rows) {
      if (row.option_index >= 0 && row.option_index < counts.length) {
        counts[row.option_index] = Number(row.n);
      }
    }
    const total = counts.reduce((a, b) => a + b, 0);
    return { version: total, counts, total };
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));
  const server = http.createServer(app);
  // Longer than nginx's upstream keepalive_timeout (60 s): nginx closes an idle
  // connection first, so no request races Node closing it (a 502 otherwise).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  // The Redis adapter: two connections, one to publish each broadcast, one subscribed to
  // the other nodes' broadcasts. An error before the stack is up ends the node (so
  // stack.sh reports it); later ones are logged while node-redis reconnects.
  let up = false;
  const pub = createClient({ url: REDIS_URL });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) {
    client.on('error', (err) => {
      console.error(`${NODE_ID}: redis: ${err.message}`);
      if (!up) process.exit(1);
    });
  }
  await Promise.all([pub.connect(), sub.connect()]);

  // WebSocket only: no long-polling, so no sticky sessions are needed behind nginx.
  const io = new Server(server, {
    transports: ['websocket'],
    serveClient: false,
    adapter: createAdapter(pub, sub),
  });
  io.on('connection', (socket) => {
    // `subscribe` with a poll id: join its room, and get the current tally (through the
    // acknowledgement when one is asked for, as a `tally` event otherwise).
    socket.on('subscribe', async (pollId, ack) => {
      try {
        const poll = typeof pollId === 'string' ? await findPoll(pollId) : null;
        const answer = poll
          ? { tally: await tallyOf(poll) }
          : { error: { code: 'poll_not_found', message: 'no poll has this id' } };
        if (poll) socket.join(poll.id);
        if (typeof ack === 'function') ack(answer);
        else if (poll) socket.emit('tally', { poll: poll.id, ...answer.tally });
      } catch (err) {
        console.error(`${NODE_ID}: subscribe: ${err.stack || err}`);
      }
    });
  });

  app.post('/api/polls', async (req, res) => {
    const body = req.body || {};
    const question = typeof body.question === 'string' ? body.question.trim() : '';
    if (question.length === 0 || [...question].length > MAX_QUESTION_CHARS) {
      return fail(res, 422, 'invalid_question', `the question must have 1 to ${MAX_QUESTION_CHARS} characters`);
    }
    const options = Array.isArray(body.options) ? body.options : [];
    if (options.length < MIN_OPTIONS || options.length > MAX_OPTIONS) {
      return fail(res, 422, 'invalid_options', `a poll needs ${MIN_OPTIONS} to ${MAX_OPTIONS} options`);
    }
    const cleaned = [];
    for (const [i, option] of options.entries()) {
      const text = typeof option === 'string' ? option.trim() : '';
      if (text.length === 0 || [...text].length > MAX_OPTION_CHARS) {
        return fail(res, 422, 'invalid_options', `option ${i} must have 1 to ${MAX_OPTION_CHARS} characters`);
      }
      cleaned.push(text);
    }
    const poll = { id: randomId(9), question, options: cleaned };
    await pool.execute('INSERT INTO polls (id, question, options) VALUES (?, ?, ?)', [
      poll.id,
      poll.question,
      JSON.stringify(poll.options),
    ]);
    remember(poll);
    // No owner routes in this subset: the token is issued as votewire does, not kept.
    res.status(201).json({ poll, owner_token: randomId(24) });
  });

  // A voter is only a random token here (no voters table): the (poll, voter) primary key
  // is what counts each voter once.
  app.post('/api/voters', (req, res) => {
    res.status(201).json({ voter_token: randomId(24) });
  });

  app.get('/api/polls/:id', async (req, res) => {
    const poll = await findPoll(req.params.id);
    if (!poll) return fail(res, 404, 'poll_not_found', 'no poll has this id');
    res.json({ poll, tally: await tallyOf(poll) });
  });

  app.post('/api/polls/:id/votes', async (req, res) => {
    const auth = req.get('authorization');
    if (!auth) return fail(res, 401, 'voter_required', 'send Authorization: Voter <voter_token>');
    const match = /^Voter ([A-Za-z0-9_-]{1,64})$/.exec(auth);
    if (!match) return fail(res, 401, 'invalid_voter_token', 'send Authorization: Voter <voter_token>');
    const voter = match[1];
    const poll = await findPoll(req.params.id);
    if (!poll) return fail(res, 404, 'poll_not_found', 'no poll has this id');
    const option = req.body ? req.body.option : undefined;
    if (!Number.isInteger(option) || option < 0 || option >= poll.options.length) {
      return fail(res, 422, 'option_out_of_range', `option must be an index from 0 to ${poll.options.length - 1}`);
    }
    // The vote: one upsert (a voter who votes again changes their vote), then the
    // recount, then the broadcast through Redis to every node's sockets in the room.
    await pool.execute(
      'INSERT INTO votes (poll, voter, option_index) VALUES (?, ?, ?) ' +
        'ON DUPLICATE KEY UPDATE option_index = VALUES(option_index)',
      [poll.id, voter, option],
    );
    const tally = await tallyOf(poll);
    io.to(poll.id).emit('tally', { poll: poll.id, ...tally });
    res.json({ vote: { version: tally.version }, tally });
  });

  // Anything else: a JSON 404, as votewire answers.
  app.use((req, res) => fail(res, 404, 'not_found', 'no such route'));

  // Body parser refusals keep their status (400 malformed JSON, 413 too large); the rest
  // (the database failing, say) is a 500. Express 5 sends rejected handlers here too.
  app.use((err, req, res, next) => {
    if (res.headersSent) return next(err);
    if (err.type === 'entity.parse.failed') return fail(res, 400, 'malformed_json', 'the body is not valid JSON');
    if (err.type === 'entity.too.large') return fail(res, 413, 'payload_too_large', 'the body is too large');
    console.error(`${NODE_ID}: ${req.method} ${req.path}: ${err.stack || err}`);
    return fail(res, 500, 'internal', 'something went wrong on the server');
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(PORT, HOST, resolve);
  });
  up = true;
  console.log(`${NODE_ID}: listening on http://${HOST}:${PORT}`);

  // SIGTERM (stack.sh down): close the sockets and the server, then the pools. A
  // keep-alive connection or a stuck query must not hold the node: exit after 3 s anyway.
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), 3000).unref();
    io.close();
    server.closeAllConnections();
    await Promise.allSettled([pool.end(), pub.quit(), sub.quit()]);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error(`${NODE_ID}: failed to start: ${err.stack || err}`);
  process.exit(1);
});

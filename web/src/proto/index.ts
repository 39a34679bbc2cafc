// Generated from proto/ by `cargo run -p votewire-proto --example write-typescript`.
// Do not edit: change the Rust types and run the command again.

/** The WebSocket protocol version announced in `hello`. */
export const PROTOCOL_VERSION = 1;

/**
 * A poll's identifier: random, URL-safe, unguessable enough to share as a link.
 */

export type PollId = string;

/**
 * A node's identifier, as given by `--node-id` (or the host name).
 */

export type NodeId = string;

/**
 * Why a request or message was refused. Serialized in `snake_case`.
 */

export type ErrorCode = "malformed_json" | "invalid_body" | "unsupported_media_type" | "payload_too_large" | "invalid_query" | "invalid_question" | "invalid_options" | "invalid_closes_at" | "invalid_max_choices" | "invalid_poll_id" | "invalid_join_code" | "invalid_idempotency_key" | "idempotency_key_reused" | "poll_not_found" | "poll_closed" | "poll_paused" | "option_out_of_range" | "too_many_choices" | "voter_required" | "invalid_voter_token" | "malformed_authorization" | "malformed_cookie" | "wrong_authorization_scheme" | "owner_token_required" | "invalid_owner_token" | "invite_required" | "invite_invalid" | "address_already_voted" | "not_invite_only" | "not_found" | "method_not_allowed" | "forbidden_origin" | "too_many_connections" | "malformed_message" | "unknown_message_type" | "message_too_large" | "too_many_subscriptions" | "rate_limited" | "database_unavailable" | "draining" | "ingest_backlog_full" | "ingest_unavailable" | "internal";

/**
 * The code and words of an error.
 */

export type ErrorDetail = { 
/**
 * What went wrong, for programs.
 */
code: ErrorCode, 
/**
 * What went wrong, for people.
 */
message: string, };

/**
 * The body of every refused REST request: `{"error":{"code","message"}}`.
 */

export type ErrorBody = { 
/**
 * What went wrong.
 */
error: ErrorDetail, };

/**
 * The counts of a poll at one version.
 *
 * `version` rises by one with every vote that changed the counts, so a client keeps
 * the tally with the highest version it has seen and ignores the rest.
 */

export type Tally = { 
/**
 * Rises by one with every committed vote that changed the counts, and with every
 * pause, resume and reset of the poll.
 */
version: number, 
/**
 * Votes per option, in the poll's option order; empty when the poll's results
 * are hidden from the reader (see `ResultsVisibility`).
 */
counts: Array<number>, 
/**
 * The number of voters with a vote in this poll: the sum of `counts`, except on a
 * multiple-choice poll, where a vote counts for each option of its set.
 */
total: number, };

/**
 * Whether a poll still takes votes.
 */

export type PollStatus = "open" | "paused" | "closed";

/**
 * Who may vote in a poll, chosen at creation.
 */

export type VotingMode = "open" | "per_address" | "invite";

/**
 * Who sees a poll's counts, chosen at creation and changed by its owner
 * (`POST /api/polls/{id}/results`). The total (how many voted) is always shown; a
 * reader who may not see the counts gets a tally whose `counts` is empty and updates
 * whose `recent` is empty. The owner (its token) always sees them.
 */

export type ResultsVisibility = "live" | "after_vote" | "after_close" | "hidden";

/**
 * A poll as the API shows it.
 */

export type Poll = { 
/**
 * The poll's identifier, used in every URL that concerns it.
 */
id: PollId, 
/**
 * The question asked.
 */
question: string, 
/**
 * The options, in the order votes refer to them (by index).
 */
options: Array<string>, 
/**
 * When the poll was created.
 */
created_at: string, 
/**
 * When the poll closes by itself, if it was given a closing time.
 */
closes_at: string | null, 
/**
 * When the poll was closed (by its owner or by its closing time), if it is closed.
 */
closed_at: string | null, 
/**
 * Open or closed, as the server's clock sees it now.
 */
status: PollStatus, 
/**
 * Who may vote.
 */
mode: VotingMode, 
/**
 * The code people type to reach the poll (`GET /api/join/{code}`, the `/j/{code}`
 * page): six characters of `23456789ABCDEFGHJKMNPQRSTUVWXYZ`, no look-alikes.
 * Absent only for polls made before polls had codes.
 */
join_code?: string, 
/**
 * Shown in `GET /api/polls` while open; false: reached by its link or code alone.
 */
listed: boolean, 
/**
 * Who sees the counts.
 */
results: ResultsVisibility, 
/**
 * How many options a voter may choose: 1 (single choice), or more for a
 * multiple-choice poll, whose ballots are sets (`options` in a vote).
 */
max_choices: number, };

/**
 * `POST /api/polls`: the body that creates a poll.
 */

export type CreatePoll = { 
/**
 * The question: 1 to 280 characters by default, not blank.
 */
question: string, 
/**
 * 2 to 32 options by default, each 1 to 100 characters, not blank, all different.
 */
options: Array<string>, 
/**
 * An optional closing time in the future (RFC 3339).
 */
closes_at?: string, 
/**
 * Who may vote; `open` when absent.
 */
mode?: VotingMode, 
/**
 * False keeps the poll off `GET /api/polls` (unlisted); listed when absent.
 */
listed?: boolean, 
/**
 * Who sees the counts; `live` when absent.
 */
results?: ResultsVisibility, 
/**
 * How many options a voter may choose, 1 to the number of options (1 when absent).
 * A multiple-choice poll (more than 1) has at most 63 options.
 */
max_choices?: number, };

/**
 * `POST /api/polls/{id}/results`: the owner changes who sees the counts (revealing
 * them is switching to `live`).
 */

export type SetResults = { 
/**
 * The new visibility.
 */
results: ResultsVisibility, };

/**
 * `POST /api/polls/{id}/invites`: how many invite codes to mint.
 */

export type MintInvites = { 
/**
 * 1 to 500 codes.
 */
count: number, };

/**
 * `201` answer to `POST /api/polls/{id}/invites`.
 */

export type InvitesMinted = { 
/**
 * The new codes, each good for one voter. They are shown once: the server keeps
 * only their digests.
 */
codes: Array<string>, };

/**
 * `201` answer to `POST /api/polls`.
 */

export type CreatedPoll = { 
/**
 * The poll as created.
 */
poll: Poll, 
/**
 * The secret that closes the poll (`Authorization: Bearer <owner_token>`).
 * It is shown once: keep it.
 */
owner_token: string, };

/**
 * `GET /api/polls/{id}`: a poll with its current tally.
 */

export type PollView = { 
/**
 * The poll.
 */
poll: Poll, 
/**
 * Its tally now.
 */
tally: Tally, };

/**
 * One line of the poll list.
 */

export type PollListItem = { 
/**
 * The poll.
 */
poll: Poll, 
/**
 * How many voters have a vote in it.
 */
total: number, };

/**
 * `GET /api/polls?limit=&before=`: open polls, newest first, one page.
 */

export type PollList = { 
/**
 * This page of polls.
 */
polls: Array<PollListItem>, 
/**
 * Pass as `before` to get the next page; absent on the last page.
 */
next: string | null, };

/**
 * How many of a poll's current votes one node handled.
 */

export type NodeVotes = { 
/**
 * The node that committed the votes.
 */
node: NodeId, 
/**
 * How many of the poll's current votes it committed.
 */
votes: number, };

/**
 * `GET /api/polls/{id}/audit`: which node handled the votes that count now.
 */

export type PollAudit = { 
/**
 * The poll audited.
 */
poll: PollId, 
/**
 * The tally the audit was read with.
 */
tally: Tally, 
/**
 * Votes per node, most first. Their sum is `tally.total`.
 */
nodes: Array<NodeVotes>, };

/**
 * `POST /api/polls/{id}/votes`: the option chosen, by index, or the options chosen on
 * a multiple-choice poll. Exactly one of `option` and `options`.
 */

export type CastVote = { 
/**
 * The index of the chosen option in `poll.options`.
 */
option?: number, 
/**
 * The indexes of the chosen options, at most the poll's `max_choices`, none twice:
 * the voter's whole choice, which replaces the one before.
 */
options?: Array<number>, 
/**
 * The voter's sequence number for this choice, higher for every later choice (a
 * client may use its clock in milliseconds). The vote applies only if it is
 * higher than the last one applied for this voter and poll, so a retry of an
 * older choice that arrives late never undoes a newer one. Without it the vote
 * always applies.
 */
seq?: number, 
/**
 * In an `invite` poll, the invite code, needed on the voter's first vote only: it
 * binds the code to the voter, and the code admits no other voter.
 */
invite?: string, };

/**
 * What a node committed for one vote.
 */

export type VoteReceipt = { 
/**
 * The poll voted in.
 */
poll: PollId, 
/**
 * The option this vote asked for (the first of them, for a set).
 */
option: number, 
/**
 * Every option this vote asked for, in index order.
 */
options: Array<number>, 
/**
 * The `seq` this vote carried.
 */
seq: number | null, 
/**
 * True when a choice of this voter with an equal or higher `seq` was already
 * applied: this vote changed nothing, and `choice` is the newer choice that stands.
 */
superseded: boolean, 
/**
 * The voter's choice that stands after this vote (`null`: none, withdrawn by a
 * newer request); the first of `choices`.
 */
choice: number | null, 
/**
 * Every option of the voter's choice that stands, in index order.
 */
choices: Array<number>, 
/**
 * The poll's version once this vote is counted. A repeated vote changes nothing
 * and answers the current version.
 */
version: number, 
/**
 * The node that handled the vote.
 */
node: NodeId, };

/**
 * `200` answer to a vote.
 */

export type VoteResponse = { 
/**
 * The vote as committed.
 */
vote: VoteReceipt, 
/**
 * The tally right after the commit.
 */
tally: Tally, };

/**
 * `202` answer to a vote or a withdrawal on a node in stream ingest mode: the vote
 * is recorded (in a Redis Stream that Redis keeps on disk) and a worker will count
 * it. An update of the poll carries it once it is counted; a vote the database
 * refuses then (the poll closed meanwhile) reaches the voter's sockets as a
 * `rejected` message.
 */

export type VoteAccepted = { 
/**
 * The vote's entry in the ingest stream, `<milliseconds>-<n>`: later entries of a
 * poll are counted after earlier ones.
 */
stream_id: string, 
/**
 * The poll voted in.
 */
poll: PollId, 
/**
 * The option asked for (the first, for a set); `null` for a withdrawal.
 */
option: number | null, 
/**
 * Every option asked for, in index order; empty for a withdrawal.
 */
options: Array<number>, 
/**
 * The `seq` the request carried.
 */
seq: number | null, 
/**
 * The node that recorded the vote.
 */
node: NodeId, };

/**
 * `200` answer to `DELETE /api/polls/{id}/votes`.
 */

export type WithdrawResponse = { 
/**
 * The poll.
 */
poll: PollId, 
/**
 * False when nothing changed: the voter had no vote, or a newer choice (an equal
 * or higher `seq`) was already applied.
 */
withdrawn: boolean, 
/**
 * True when a choice of this voter with an equal or higher `seq` was already
 * applied: this withdrawal changed nothing.
 */
superseded: boolean, 
/**
 * The voter's choice that stands after this request (`null`: no vote); the first
 * of `choices`.
 */
choice: number | null, 
/**
 * Every option of the voter's choice that stands, in index order.
 */
choices: Array<number>, 
/**
 * The node that handled the request.
 */
node: NodeId, 
/**
 * The tally right after the commit.
 */
tally: Tally, };

/**
 * `POST /api/voters`: a new voter. The same token is also set as the
 * `votewire_voter` cookie (HttpOnly, SameSite=Lax).
 */

export type VoterIssued = { 
/**
 * Send as `Authorization: Voter <voter_token>` when cookies are not an option.
 */
voter_token: string, };

/**
 * What a process of the deployment does.
 */

export type NodeRole = "node" | "worker";

/**
 * How long a node's commits took over an interval.
 */

export type CommitTimes = { 
/**
 * The median, in milliseconds.
 */
p50: number, 
/**
 * The 99th percentile, in milliseconds.
 */
p99: number, 
/**
 * How many commits it measured.
 */
commits: number, };

/**
 * One live node.
 */

export type NodeInfo = { 
/**
 * The node's identifier.
 */
id: NodeId, 
/**
 * WebSocket connections open on the node now.
 */
sockets: number, 
/**
 * Votes the node has handled since it started.
 */
votes_handled: number, 
/**
 * When the node last announced itself.
 */
last_seen: string, 
/**
 * The node's software version.
 */
version: string, 
/**
 * The address the node listens on.
 */
address: string, 
/**
 * How far each of its read replicas lags behind the primary, in milliseconds,
 * when it reads from replicas.
 */
replica_lag_ms: Array<number>, 
/**
 * What it does. Absent from nodes older than the field: `node`.
 */
role: NodeRole, 
/**
 * With `--ingest stream`, and on workers: the votes waiting in the ingest streams
 * when it last measured.
 */
ingest_backlog: number | null, 
/**
 * On a worker: from the oldest vote of its last batch being recorded to its commit,
 * in milliseconds.
 */
ingest_lag_ms: number | null, 
/**
 * Frames its fan-out has put in sockets' outboxes since it started: over two
 * announcements, its frames per second.
 */
frames_sent: number, 
/**
 * The median and 99th percentile of its commits' durations over its last
 * announcement interval, in milliseconds; absent when it committed nothing.
 */
commit_ms: CommitTimes | null, 
/**
 * Whether its Redis bus is connected (always true on a single node).
 */
bus_connected: boolean, };

/**
 * `GET /api/cluster`: the live nodes. A single node lists itself.
 */

export type ClusterView = { 
/**
 * The node that answered.
 */
node: NodeId, 
/**
 * Every live node, the answering one included.
 */
nodes: Array<NodeInfo>, };

/**
 * `GET /healthz` and `GET /readyz`.
 */

export type HealthReport = { 
/**
 * `ok`, `ready`, `draining` or `unavailable`.
 */
status: string, 
/**
 * The node that answered.
 */
node: NodeId, 
/**
 * Each dependency checked, with `ok` or what is wrong with it.
 */
checks: { [key in string]: string }, };

/**
 * A message from the client.
 */

export type ClientMessage = { "type": "subscribe", 
/**
 * The poll to watch.
 */
poll: PollId, 
/**
 * The version the client already shows, if any.
 */
since?: number, 
/**
 * The poll's owner token, from its owner's page: the owner sees the counts
 * whatever the poll's `results`. A token that is not the poll's is refused.
 */
owner_token?: string, } | { "type": "unsubscribe", 
/**
 * The poll to stop watching.
 */
poll: PollId, } | { "type": "watch_cluster" } | { "type": "unwatch_cluster" };

/**
 * A vote folded into an `update`.
 */

export type RecentVote = { 
/**
 * The option voted for (the first, for a set); absent when the vote was withdrawn.
 */
option: number | null, 
/**
 * Every option voted for, when the vote chose more than one.
 */
options?: Array<number>, 
/**
 * The node that handled the vote.
 */
node: NodeId, 
/**
 * When the vote was committed.
 */
at: string, };

/**
 * A message from the server.
 */

export type ServerMessage = { "type": "hello", 
/**
 * The node this socket is connected to.
 */
node: NodeId, 
/**
 * The protocol version, [`crate::PROTOCOL_VERSION`].
 */
protocol: number, } | { "type": "snapshot", 
/**
 * The poll.
 */
poll: PollId, 
/**
 * Open or closed.
 */
status: PollStatus, 
/**
 * Its tally now; `counts` is empty when the results are hidden from this socket.
 */
tally: Tally, 
/**
 * Who sees the counts; absent: `live`.
 */
results?: ResultsVisibility, 
/**
 * How many sockets watch the poll, over every node, as last counted (every
 * two seconds or so).
 */
watching?: number, } | { "type": "update", 
/**
 * The poll.
 */
poll: PollId, 
/**
 * `paused` while its owner paused voting; absent: open.
 */
status?: PollStatus, 
/**
 * Its whole tally at the newest version; `counts` is empty when the results are
 * hidden from this socket.
 */
tally: Tally, 
/**
 * Who sees the counts; absent: `live`.
 */
results?: ResultsVisibility, 
/**
 * The latest votes folded into this update, oldest first; empty when the
 * results are hidden from this socket (they would tell the counts).
 */
recent: Array<RecentVote>, 
/**
 * How many more votes were folded in than `recent` lists.
 */
skipped: number, 
/**
 * How many sockets watch the poll, over every node, as last counted.
 */
watching?: number, } | { "type": "closed", 
/**
 * The poll.
 */
poll: PollId, 
/**
 * The final tally; `counts` is empty when the results are hidden from this
 * socket (a `hidden` poll its owner did not reveal).
 */
tally: Tally, } | { "type": "rejected", 
/**
 * The poll.
 */
poll: PollId, 
/**
 * The receipt of the refused vote, as its 202 gave it.
 */
stream_id: string, 
/**
 * Why it was refused, from the shared vocabulary.
 */
code: ErrorCode, 
/**
 * Why, in words.
 */
message: string, } | { "type": "cluster", 
/**
 * The nodes, as `GET /api/cluster` lists them.
 */
view: ClusterView, } | { "type": "error", 
/**
 * What went wrong, from the shared vocabulary.
 */
code: ErrorCode, 
/**
 * What went wrong, in words.
 */
message: string, };

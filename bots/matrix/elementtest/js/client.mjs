// An Element-like Matrix client for authbot's tests: matrix-js-sdk with the
// Rust crypto (matrix-sdk-crypto-wasm) that Element Web runs. The Go test
// (bots/matrix/elementtest) starts Dendrite and the bot, then runs this
// script, which plays a person and prints one JSON line per finding on
// stdout; the Go test checks them. Any failure exits non-zero with the
// reason on stderr.
//
// Environment: HS (homeserver URL), USER, PASSWORD (the person), BOT (the
// bot's user id), SECRET (a base32 backup key to add).
import "./polyfill.mjs"; // first: Node 20 (see the file)
import * as sdk from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";

logger.setLevel("error"); // the SDK's debug lines would drown the findings

const { HS, USER, PASSWORD, BOT, SECRET } = process.env;
const STEP_TIMEOUT = 30_000;

function report(step, data = {}) {
  process.stdout.write(JSON.stringify({ step, ...data }) + "\n");
}

function fail(msg) {
  process.stderr.write("element client: " + msg + "\n");
  process.exit(1);
}

// login makes a new device for USER with its own Rust crypto store (in
// memory, like a fresh browser profile) and waits for the first sync.
async function login(name) {
  const tmp = sdk.createClient({ baseUrl: HS });
  const res = await tmp.loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user: USER },
    password: PASSWORD,
    initial_device_display_name: name,
  });
  const client = sdk.createClient({
    baseUrl: HS, userId: res.user_id, deviceId: res.device_id, accessToken: res.access_token,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  const ready = new Promise((resolve) => {
    client.on(sdk.ClientEvent.Sync, (state) => { if (state === "PREPARED") resolve(); });
  });
  await client.startClient({ initialSyncLimit: 10 });
  await ready;
  return client;
}

// waitFor resolves with the first timeline event in room that matches,
// decrypted, among those already there and those still to come.
function waitFor(client, roomId, what, match) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timed out waiting for " + what)), STEP_TIMEOUT);
    const check = async (ev) => {
      if (ev.getRoomId() !== roomId) return;
      if (ev.isEncrypted() && ev.isBeingDecrypted()) await ev.getDecryptionPromise();
      try {
        if (match(ev)) { clearTimeout(timer); resolve(ev); }
      } catch (e) { /* not this one */ }
    };
    client.on(sdk.RoomEvent.Timeline, (ev) => { check(ev); });
    client.on(sdk.MatrixEventEvent.Decrypted, (ev) => { check(ev); });
    const room = client.getRoom(roomId);
    if (room) for (const ev of room.getLiveTimeline().getEvents()) check(ev);
  });
}

const fromBot = (after) => (ev) =>
  ev.getSender() === BOT && ev.getType() === "m.room.message" && ev.getTs() >= after &&
  !ev.isRedacted() && !(ev.getContent()["m.relates_to"]?.rel_type === "m.replace");

async function send(client, roomId, text) {
  const { event_id } = await client.sendEvent(roomId, "m.room.message", { msgtype: "m.text", body: text });
  return event_id;
}

async function main() {
  const alice = await login("Element (test)");
  report("login", { device: alice.getDeviceId() });

  // A direct chat as Element makes it: trusted_private_chat, is_direct,
  // encrypted from the start, recorded in m.direct.
  const { room_id: roomId } = await alice.createRoom({
    preset: "trusted_private_chat",
    is_direct: true,
    invite: [BOT],
    initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  });
  await alice.setAccountData("m.direct", { [BOT]: [roomId] });
  await waitFor(alice, roomId, "the bot to join", (ev) =>
    ev.getType() === "m.room.member" && ev.getStateKey() === BOT && ev.getContent().membership === "join");
  report("joined", { room: roomId });

  // The bot's device: cross-signed by its owner (no red shield).
  const crypto = alice.getCrypto();
  const devices = await crypto.getUserDeviceInfo([BOT], true);
  const botDevices = [...(devices.get(BOT)?.keys() ?? [])];
  if (botDevices.length === 0) fail("the bot has no device with keys");
  for (const d of botDevices) {
    const status = await crypto.getDeviceVerificationStatus(BOT, d);
    report("bot-device", { device: d, signedByOwner: !!status?.signedByOwner, crossSigningVerified: !!status?.crossSigningVerified });
  }

  // !add: stored, and the message with the key is redacted.
  let t = Date.now() - 1000;
  const addId = await send(alice, roomId, "!add binance " + SECRET);
  const added = await waitFor(alice, roomId, "the !add reply", fromBot(t));
  await waitFor(alice, roomId, "the redaction of the !add message", (ev) =>
    ev.getType() === "m.room.redaction" && ev.getAssociatedId?.() === addId || (ev.getId() === addId && ev.isRedacted()));
  report("add", { body: added.getContent().body, msgtype: added.getContent().msgtype, decrypted: added.isEncrypted() && !added.isDecryptionFailure() });

  // !code: an m.notice reply to the request, no fallback.
  t = Date.now() - 1000;
  const codeId = await send(alice, roomId, "!code binance");
  const code = await waitFor(alice, roomId, "the !code reply", (ev) => fromBot(t)(ev) && /\d{6}/.test(ev.getContent().body ?? ""));
  const c = code.getContent();
  report("code", {
    body: c.body, msgtype: c.msgtype, formatted: c.formatted_body ?? "", sentAt: code.getTs(),
    inReplyTo: c["m.relates_to"]?.["m.in_reply_to"]?.event_id ?? "", request: codeId,
    decrypted: code.isEncrypted() && !code.isDecryptionFailure(),
  });

  // A second device of alice's, never verified by anyone: it decrypts
  // the bot's answers to it.
  const second = await login("Element (second, unverified)");
  t = Date.now() - 1000;
  await send(second, roomId, "!list");
  const list = await waitFor(second, roomId, "the reply on the second device", (ev) =>
    fromBot(t)(ev) && (ev.isDecryptionFailure() || /Your accounts/.test(ev.getContent().body ?? "")) &&
    !/sent before this device logged in/.test(ev.getContent().body ?? ""));
  report("second-device", { body: list.getContent().body, decrypted: list.isEncrypted() && !list.isDecryptionFailure() });
  second.stopClient();

  // Element's "Never send encrypted messages to unverified sessions": the
  // key is withheld from the bot, which must say so.
  crypto.globalBlacklistUnverifiedDevices = true;
  t = Date.now() - 1000;
  await send(alice, roomId, "!code binance");
  const notice = await waitFor(alice, roomId, "the undecryptable notice", (ev) =>
    fromBot(t)(ev) && /could not read/.test(ev.getContent().body ?? ""));
  report("withheld", { body: notice.getContent().body, msgtype: notice.getContent().msgtype });

  alice.stopClient();
  process.exit(0);
}

main().catch((e) => fail(e?.stack ?? String(e)));

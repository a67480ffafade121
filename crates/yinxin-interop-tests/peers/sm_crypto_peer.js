// sm-crypto peer for the yinxin interop tests (crates/yinxin-interop-tests).
//
// Run as: NODE_PATH=<dir holding node_modules/sm-crypto> node sm_crypto_peer.js jobs.json
// jobs.json is a JSON array of jobs; the peer prints a JSON array with one result per job,
// in order. Keys and data are hex, as sm-crypto takes them (what a web front-end holds);
// messages go in as byte arrays, so they may be any bytes. userId, when present, is a string
// (sm-crypto hashes its UTF-8 bytes); when absent sm-crypto uses its default.
//
//   {op: "keygen"}                                   -> {privateKey, publicKey}  (04 || x || y)
//   {op: "sign", privateKey, msg, userId?, der}      -> {signature}   doSignature(hash: true)
//   {op: "verify", publicKey, msg, signature, userId?, der} -> {valid}
//   {op: "encrypt", publicKey, msg, cipherMode}      -> {ciphertext}  (no 04 prefix)
//   {op: "decrypt", privateKey, ciphertext, cipherMode} -> {plaintext}  ("" if C3 mismatches)
//   {op: "publicKey", privateKey}                    -> {publicKey}
//
// A job that throws yields {error: message}.

'use strict';

const fs = require('fs');
const { sm2 } = require('sm-crypto');

const bytes = (hex) => Array.from(Buffer.from(hex, 'hex'));
const hex = (array) => Buffer.from(array).toString('hex');

function run(job) {
  switch (job.op) {
    case 'keygen':
      return sm2.generateKeyPairHex();
    case 'publicKey':
      return { publicKey: sm2.getPublicKeyFromPrivateKey(job.privateKey) };
    case 'sign': {
      const options = { hash: true, der: job.der };
      if (job.userId !== undefined) options.userId = job.userId;
      return { signature: sm2.doSignature(bytes(job.msg), job.privateKey, options) };
    }
    case 'verify': {
      const options = { hash: true, der: job.der };
      if (job.userId !== undefined) options.userId = job.userId;
      return {
        valid: sm2.doVerifySignature(bytes(job.msg), job.signature, job.publicKey, options),
      };
    }
    case 'encrypt':
      return { ciphertext: sm2.doEncrypt(bytes(job.msg), job.publicKey, job.cipherMode) };
    case 'decrypt':
      return {
        plaintext: hex(sm2.doDecrypt(job.ciphertext, job.privateKey, job.cipherMode, {
          output: 'array',
        })),
      };
    default:
      throw new Error(`unknown job ${job.op}`);
  }
}

const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const results = jobs.map((job) => {
  try {
    return run(job);
  } catch (e) {
    return { error: String(e && e.stack ? e.stack : e) };
  }
});
process.stdout.write(JSON.stringify(results));

#!/usr/bin/env node
// The standard verifier of the test suite: Digital Bazaar's @digitalbazaar/vc (Data Integrity,
// eddsa-rdfc-2022, Bitstring Status List), none of the portal's own code.
//
//   node tests/verifier/verify.mjs [request.json]     (or the request on standard input)
//
// The request, JSON:
//   {
//     "credential": {...},            the credential to verify (or "credentialUrl": "<url>",
//                                     fetched through the document loader below)
//     "allowedOrigins": ["http://127.0.0.1:PORT"],
//     "contexts": {"<url>": <doc>} or "<folder with an index.json>"   (optional, see below)
//     "mode": "credential" | "statusList",   statusList: the credential must be a
//                                     BitstringStatusListCredential, and its list is decoded
//     "nested": true,                 also verify every credentialSubject.verifiableCredential
//                                     (a CLR transcript's credentials), each on its own
//     "issuerMustControlKey": true    false: the proof's verification method must be authorised
//                                     for assertions by its controller, but that controller need
//                                     not be the issuer (for signing test vectors, whose issuer
//                                     is not the key's DID)
//   }
//
// It prints one JSON object and exits 0 whatever the verdict:
//   {"verified": bool, "errors": ["..."], "statusResults": [...], "credentials": [...]}
// and exits 2, with {"error": "..."} on stdout, for a request it cannot read.
//
// The document loader serves, and nothing else:
//   * JSON-LD contexts pinned on disk, the first found of: the "contexts" of the request (a
//     folder is read like the portal's), the portal's pinned copies (certificates/credentials/
//     contexts/, by its index.json, every file checked against its sha256), and the contexts
//     that ship inside the npm packages of package-lock.json (security v1/v2, multikey v1,
//     DID v1, credentials v1/v2, bitstring status list v1);
//   * did:key DIDs and their keys, resolved locally from the DID itself (Ed25519 only);
//   * any other URL by an HTTP GET (Accept: application/ld+json, application/json) only if its
//     origin is one of allowedOrigins, redirects included; anything else throws
//     "refused to fetch <url>". A fragment is not dereferenced: the document at the URL without
//     its fragment is the answer, as Digital Bazaar's own loaders do.

import {createHash} from 'node:crypto';
import {readFileSync, existsSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {checkStatus, decodeList} from '@digitalbazaar/vc-bitstring-status-list';
import jsigs from 'jsonld-signatures';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import securityContext from '@digitalbazaar/security-context';
import multikeyContext from '@digitalbazaar/multikey-context';
import didContext from 'did-context';
import {contexts as bslContexts} from
  '@digitalbazaar/vc-bitstring-status-list-context';

const HERE = dirname(fileURLToPath(import.meta.url));
const PORTAL_CONTEXTS = resolve(HERE, '..', '..', 'certificates', 'credentials', 'contexts');
const FETCH_TIMEOUT_MS = 15000;
const MAX_REDIRECTS = 5;

class RequestError extends Error {}

// --- pinned contexts ------------------------------------------------------------------------

function contextsFromFolder(folder) {
  const indexPath = join(folder, 'index.json');
  if(!existsSync(indexPath)) {
    throw new RequestError(`no index.json in the contexts folder ${folder}`);
  }
  const index = JSON.parse(readFileSync(indexPath, 'utf8'));
  const found = new Map();
  for(const [url, entry] of Object.entries(index)) {
    const bytes = readFileSync(join(folder, entry.file));
    const digest = createHash('sha256').update(bytes).digest('hex');
    if(digest !== String(entry.sha256).toLowerCase()) {
      throw new RequestError(
        `pinned context ${url} (${entry.file}) has sha256 ${digest}, ` +
        `the index pins ${entry.sha256}`);
    }
    found.set(url, JSON.parse(bytes.toString('utf8')));
  }
  return found;
}

function packagedContexts() {
  // What the npm packages (package-lock.json) carry: used only for URLs the portal does not pin.
  const found = new Map();
  for(const map of [
    credentialsContexts, securityContext.contexts, multikeyContext.contexts,
    didContext.contexts, bslContexts
  ]) {
    for(const [url, doc] of map) {
      found.set(url, doc);
    }
  }
  return found;
}

function pinnedContexts(requested) {
  // The packages' copies, then the portal's pinned copies over them for the URLs they cover,
  // then whatever the request brings over both.
  const pinned = packagedContexts();
  for(const [url, doc] of contextsFromFolder(PORTAL_CONTEXTS)) {
    pinned.set(url, doc);
  }
  if(typeof requested === 'string') {
    for(const [url, doc] of contextsFromFolder(resolve(requested))) {
      pinned.set(url, doc);
    }
  } else if(requested && typeof requested === 'object' && !Array.isArray(requested)) {
    for(const [url, doc] of Object.entries(requested)) {
      pinned.set(url, doc);
    }
  } else if(requested !== undefined && requested !== null) {
    throw new RequestError('"contexts" must be an object (url to document) or a folder path');
  }
  return pinned;
}

// --- did:key ------------------------------------------------------------------------------

async function resolveDidKey(url) {
  const [did, fragment] = url.split('#', 2);
  const key = did.slice('did:key:'.length);
  if(!key.startsWith('z6Mk')) {
    throw new Error(`only Ed25519 did:key DIDs are resolved here, not ${did}`);
  }
  const vmId = `${did}#${key}`;
  // Decoding checks the multicodec header and the key's length.
  const multikey = await Ed25519Multikey.from({
    id: vmId, controller: did, publicKeyMultibase: key
  });
  const method = await multikey.export({publicKey: true, includeContext: false});
  if(fragment !== undefined) {
    if(fragment !== key) {
      throw new Error(`${url} names no key of ${did}`);
    }
    return {'@context': multikeyContext.CONTEXT_URL, ...method};
  }
  return {
    '@context': [didContext.DID_CONTEXT_URL, multikeyContext.CONTEXT_URL],
    id: did,
    verificationMethod: [method],
    authentication: [vmId],
    assertionMethod: [vmId],
    capabilityDelegation: [vmId],
    capabilityInvocation: [vmId]
  };
}

// --- the document loader ------------------------------------------------------------------

function makeDocumentLoader({contexts, allowedOrigins}) {
  const origins = new Set(allowedOrigins.map(o => new URL(o).origin));
  const fetched = new Map();

  async function get(url) {
    let target = new URL(url);
    target.hash = '';
    for(let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      if(!origins.has(target.origin)) {
        throw new Error(`refused to fetch ${target.href}`);
      }
      const response = await fetch(target, {
        headers: {Accept: 'application/ld+json, application/json'},
        redirect: 'manual',
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS)
      });
      if([301, 302, 303, 307, 308].includes(response.status)) {
        target = new URL(response.headers.get('location'), target);
        continue;
      }
      if(!response.ok) {
        throw new Error(`GET ${target.href} answered ${response.status}`);
      }
      const text = await response.text();
      try {
        return JSON.parse(text);
      } catch(e) {
        throw new Error(`GET ${target.href} did not answer JSON: ${e.message}`);
      }
    }
    throw new Error(`GET ${url}: more than ${MAX_REDIRECTS} redirects`);
  }

  return async function documentLoader(url) {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
    }
    if(url.startsWith('did:key:')) {
      return {contextUrl: null, documentUrl: url, document: await resolveDidKey(url)};
    }
    let parsed;
    try {
      parsed = new URL(url);
    } catch(e) {
      throw new Error(`refused to fetch ${url}`);
    }
    if(!['http:', 'https:'].includes(parsed.protocol) || !origins.has(parsed.origin)) {
      throw new Error(`refused to fetch ${url}`);
    }
    // One GET per URL and run: a status list shared by several entries is read once.
    const key = url.split('#')[0];
    if(!fetched.has(key)) {
      fetched.set(key, get(url));
    }
    return {contextUrl: null, documentUrl: url, document: await fetched.get(key)};
  };
}

// --- errors, flattened ----------------------------------------------------------------------

function flattenErrors(value, out = [], seen = new Set()) {
  if(value === undefined || value === null || seen.has(value)) {
    return out;
  }
  if(typeof value === 'object') {
    seen.add(value);
  }
  if(Array.isArray(value)) {
    value.forEach(v => flattenErrors(v, out, seen));
    return out;
  }
  const nested = value.errors ? [].concat(value.errors) : [];
  // A VerificationError only says "Verification error(s)."; its parts say what went wrong.
  if(!(value.name === 'VerificationError' && nested.length > 0)) {
    const message = value.message || String(value);
    if(!out.includes(message)) {
      out.push(message);
    }
  }
  nested.forEach(e => flattenErrors(e, out, seen));
  flattenErrors(value.cause, out, seen);
  // jsonld.js keeps the loader's own error under details.cause.
  flattenErrors(value.details && value.details.cause, out, seen);
  return out;
}

function errorsOf(result) {
  const found = [];
  flattenErrors(result.error, found);
  for(const r of result.results || []) {
    flattenErrors(r.error, found);
    flattenErrors(r.purposeResult && r.purposeResult.error, found);
  }
  if(result.statusResult) {
    flattenErrors(result.statusResult.error, found);
    for(const r of result.statusResult.results || []) {
      flattenErrors(r.error, found);
    }
  }
  return found;
}

function statusResultsOf(result) {
  const status = result.statusResult;
  if(!status) {
    return [];
  }
  return (status.results || []).map(r => ({
    verified: r.verified === true,
    id: r.credentialStatus && r.credentialStatus.id,
    statusPurpose: r.credentialStatus && r.credentialStatus.statusPurpose,
    statusListCredential: r.credentialStatus && r.credentialStatus.statusListCredential,
    statusListIndex: r.credentialStatus && r.credentialStatus.statusListIndex,
    // The bit at the entry's index: true means revoked (or suspended) for that purpose.
    status: r.status
  }));
}

// --- verifying ------------------------------------------------------------------------------

async function verifyOne({credential, documentLoader, issuerMustControlKey, mode}) {
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
  const options = {credential, suite, documentLoader, checkStatus};
  if(!issuerMustControlKey) {
    options.purpose = new jsigs.purposes.AssertionProofPurpose();
  }
  const result = await vc.verifyCredential(options);
  const out = {
    verified: result.verified === true,
    errors: errorsOf(result),
    statusResults: statusResultsOf(result)
  };
  if(result.statusResult && !result.statusResult.verified) {
    out.verified = false;
  }
  if(mode === 'statusList') {
    const type = [].concat(credential.type || []);
    const subject = credential.credentialSubject || {};
    if(!type.includes('BitstringStatusListCredential')) {
      out.verified = false;
      out.errors.push('not a BitstringStatusListCredential');
    } else if(subject.type !== 'BitstringStatusList') {
      out.verified = false;
      out.errors.push('credentialSubject.type is not BitstringStatusList');
    } else {
      try {
        const list = await decodeList({encodedList: subject.encodedList});
        out.statusList = {statusPurpose: subject.statusPurpose, length: list.length};
      } catch(e) {
        out.verified = false;
        out.errors.push(`encodedList does not decode: ${e.message}`);
      }
    }
  }
  if(!out.verified && out.errors.length === 0) {
    out.errors.push('not verified, and the library gave no reason');
  }
  return out;
}

async function run(request) {
  if(!request || typeof request !== 'object') {
    throw new RequestError('the request must be a JSON object');
  }
  const {
    allowedOrigins = [], contexts, mode = 'credential', nested = false,
    issuerMustControlKey = true
  } = request;
  if(!Array.isArray(allowedOrigins)) {
    throw new RequestError('"allowedOrigins" must be a list of origins');
  }
  if(!['credential', 'statusList'].includes(mode)) {
    throw new RequestError('"mode" must be "credential" or "statusList"');
  }
  const documentLoader = makeDocumentLoader({
    contexts: pinnedContexts(contexts), allowedOrigins
  });

  let {credential} = request;
  if(credential === undefined && typeof request.credentialUrl === 'string') {
    try {
      ({document: credential} = await documentLoader(request.credentialUrl));
    } catch(e) {
      return {verified: false, errors: flattenErrors(e), statusResults: [], credentials: []};
    }
  }
  if(!credential || typeof credential !== 'object') {
    throw new RequestError('give "credential" (an object) or "credentialUrl"');
  }

  const top = await verifyOne({credential, documentLoader, issuerMustControlKey, mode});
  const credentials = [{path: '$', ...top}];
  if(nested) {
    const inner = [].concat(
      (credential.credentialSubject || {}).verifiableCredential || []);
    for(const [i, item] of inner.entries()) {
      const path = `$.credentialSubject.verifiableCredential[${i}]`;
      const one = await verifyOne({
        credential: item, documentLoader, issuerMustControlKey, mode: 'credential'
      });
      credentials.push({path, ...one});
    }
  }
  return {
    verified: credentials.every(c => c.verified),
    errors: credentials.flatMap(c => c.path === '$' ?
      c.errors : c.errors.map(e => `${c.path}: ${e}`)),
    statusResults: top.statusResults,
    ...(top.statusList ? {statusList: top.statusList} : {}),
    credentials
  };
}

async function readRequest(argv) {
  if(argv.length > 1) {
    throw new RequestError('usage: verify.mjs [request.json]  (or the request on stdin)');
  }
  let text;
  if(argv.length === 1 && argv[0] !== '-') {
    text = readFileSync(argv[0], 'utf8');
  } else {
    const chunks = [];
    for await (const chunk of process.stdin) {
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString('utf8');
  }
  try {
    return JSON.parse(text);
  } catch(e) {
    throw new RequestError(`the request is not JSON: ${e.message}`);
  }
}

try {
  const result = await run(await readRequest(process.argv.slice(2)));
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
} catch(e) {
  process.stdout.write(JSON.stringify({error: e.message}) + '\n');
  if(!(e instanceof RequestError)) {
    process.stderr.write((e.stack || String(e)) + '\n');
  }
  process.exitCode = 2;
}

import { PeerRefusedError } from '../errors.js';
import { formatRange, negotiateProtocol } from './protocol-version.js';
import type { ProtocolRange } from './protocol-version.js';

export type NodeRole = 'primary' | 'secondary';

/** What each node tells the other in the handshake. */
export interface PeerIdentity {
  readonly cluster: string;
  readonly nodeId: string;
  readonly release: string;
  readonly role: NodeRole;
  readonly protocol: ProtocolRange;
  readonly sessionAddress: string;
}

/** What a node must share with any peer it talks to, whatever the call. */
export type PeerTerms = Pick<PeerIdentity, 'cluster' | 'nodeId' | 'release' | 'protocol'>;

/**
 * Checks that `theirs` belongs to our pair and speaks a protocol we do;
 * returns the version to speak (the highest both support) or throws
 * PeerRefusedError saying what does not match and what to do.
 */
export function checkTerms(ours: PeerTerms, theirs: PeerTerms): number {
  if (theirs.cluster !== ours.cluster) {
    throw new PeerRefusedError(
      `cluster mismatch: node ${ours.nodeId} is in cluster "${ours.cluster}", node ${theirs.nodeId} in "${theirs.cluster}"; give both the same --cluster`,
    );
  }
  if (theirs.nodeId === ours.nodeId) {
    throw new PeerRefusedError(`both nodes are named "${ours.nodeId}"; give each node a unique --node-id`);
  }
  const version = negotiateProtocol(ours.protocol, theirs.protocol);
  if (version === undefined) {
    throw new PeerRefusedError(
      `no common peer protocol version: node ${ours.nodeId} (release ${ours.release}) speaks ${formatRange(ours.protocol)}, node ${theirs.nodeId} (release ${theirs.release}) speaks ${formatRange(theirs.protocol)}; upgrade the older node to a release that overlaps`,
    );
  }
  return version;
}

/** checkTerms, and the two nodes of a replication stream must hold different roles. */
export function checkPeer(ours: PeerIdentity, theirs: PeerIdentity): number {
  const version = checkTerms(ours, theirs);
  if (theirs.role === ours.role) {
    throw new PeerRefusedError(
      `both nodes (${ours.nodeId} and ${theirs.nodeId}) are configured as ${ours.role}; run one with --role primary and the other with --role secondary`,
    );
  }
  return version;
}

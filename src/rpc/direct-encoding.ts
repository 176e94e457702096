import type { PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';

type Serialize = (value: unknown) => Buffer;

/**
 * Top-level fields of `type` below which an enum field lives (types of a
 * resolved root). This project's messages carry enums as their names
 * (loader option enums: String), which only fromObject turns into numbers.
 */
function enumBearingFields(type: protobuf.Type): string[] {
  const known = new Map<protobuf.Type, boolean>();
  const carriesEnum = (field: protobuf.Field): boolean => {
    const t = field.resolvedType;
    return t instanceof protobuf.Enum || (t instanceof protobuf.Type && hasEnum(t));
  };
  const hasEnum = (t: protobuf.Type): boolean => {
    let result = known.get(t);
    if (result === undefined) {
      known.set(t, false); // a type nested in itself adds nothing new
      result = t.fieldsArray.some(carriesEnum);
      known.set(t, result);
    }
    return result;
  };
  return type.fieldsArray.filter(carriesEnum).map((f) => f.name);
}

/**
 * A serializer that encodes the plain object it is given as it is, and
 * falls back to `original` (fromObject, then encode) only when one of the
 * fields that hold enums is set.
 */
function directSerializer(type: protobuf.Type, original: Serialize): Serialize {
  const slow = enumBearingFields(type);
  return function directSerialize(value) {
    const fields = value as Record<string, unknown>;
    for (const name of slow) if (fields[name] !== undefined && fields[name] !== null) return original(value);
    return type.encode(value as protobuf.Message).finish() as Buffer;
  };
}

/**
 * Replaces the serializers of every method in `definition` by direct ones
 * (see directSerializer), with the types of `root`, loaded from the same
 * files with the same casing and resolved.
 *
 * Why: @grpc/proto-loader serializes with fromObject and then encode.
 * fromObject copies the whole message first, and makes a Long object of
 * every 64-bit field, though the objects this project writes already hold
 * numbers, Buffers and nested plain objects of the right shape, which
 * encode takes as they are. Without the copy a replication batch of record
 * objects serializes about 1.2x faster (`node bench/micro/serialize.mjs`).
 * The bytes are the same either way (test/unit/direct-encoding.test.ts).
 * The apply stream's messages go further (apply-codec.ts, installed over
 * these).
 */
export function useDirectEncoding(definition: PackageDefinition, root: protobuf.Root): void {
  for (const [name, entry] of Object.entries(definition)) {
    if ('format' in entry) continue; // a message or enum type, not a service
    const service = root.lookupService(name);
    for (const [methodName, method] of Object.entries(entry as ServiceDefinition)) {
      const resolved = service.methods[methodName]?.resolve() as protobuf.Method | undefined;
      if (resolved?.resolvedRequestType == null || resolved.resolvedResponseType == null) {
        throw new Error(`${name}.${methodName}: not found in the protos loaded for direct encoding`);
      }
      const writable = method as { requestSerialize: Serialize; responseSerialize: Serialize };
      writable.requestSerialize = directSerializer(resolved.resolvedRequestType, method.requestSerialize as Serialize);
      writable.responseSerialize = directSerializer(resolved.resolvedResponseType, method.responseSerialize as Serialize);
    }
  }
}

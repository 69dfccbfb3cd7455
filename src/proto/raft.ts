/* eslint-disable import/export */
/* eslint-disable complexity */
/* eslint-disable @typescript-eslint/no-namespace */
/* eslint-disable @typescript-eslint/no-unnecessary-boolean-literal-compare */
/* eslint-disable @typescript-eslint/no-empty-interface */
/* eslint-disable import/consistent-type-specifier-style */
/* eslint-disable @typescript-eslint/no-unused-vars */

import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export enum EntryType {
  normal = 'normal',
  conf = 'conf'
}

enum __EntryTypeValues {
  normal = 0,
  conf = 1
}

export namespace EntryType {
  export const codec = (): Codec<EntryType> => {
    return enumeration<EntryType>(__EntryTypeValues)
  }
}

export interface Entry {
  index: number
  term: number
  type: EntryType
  time: number
  proposer: string
  data?: Uint8Array
}

export namespace Entry {
  let _codec: Codec<Entry>

  export const codec = (): Codec<Entry> => {
    if (_codec == null) {
      _codec = message<Entry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.term)
        }

        if (obj.type != null && __EntryTypeValues[obj.type] !== 0) {
          w.uint32(24)
          EntryType.codec().encode(obj.type, w)
        }

        if ((obj.time != null && obj.time !== 0)) {
          w.uint32(33)
          w.double(obj.time)
        }

        if ((obj.proposer != null && obj.proposer !== '')) {
          w.uint32(42)
          w.string(obj.proposer)
        }

        if (obj.data != null) {
          w.uint32(50)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          term: 0,
          type: EntryType.normal,
          time: 0,
          proposer: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.term = reader.uint64Number()
              break
            }
            case 3: {
              obj.type = EntryType.codec().decode(reader)
              break
            }
            case 4: {
              obj.time = reader.double()
              break
            }
            case 5: {
              obj.proposer = reader.string()
              break
            }
            case 6: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<Entry>): Uint8Array => {
    return encodeMessage(obj, Entry.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Entry>): Entry => {
    return decodeMessage(buf, Entry.codec(), opts)
  }
}

export interface RunEntry {
  term: number
  type: EntryType
  time: number
  proposer: string
  data?: Uint8Array
}

export namespace RunEntry {
  let _codec: Codec<RunEntry>

  export const codec = (): Codec<RunEntry> => {
    if (_codec == null) {
      _codec = message<RunEntry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.term)
        }

        if (obj.type != null && __EntryTypeValues[obj.type] !== 0) {
          w.uint32(24)
          EntryType.codec().encode(obj.type, w)
        }

        if ((obj.time != null && obj.time !== 0)) {
          w.uint32(33)
          w.double(obj.time)
        }

        if ((obj.proposer != null && obj.proposer !== '')) {
          w.uint32(42)
          w.string(obj.proposer)
        }

        if (obj.data != null) {
          w.uint32(50)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          type: EntryType.normal,
          time: 0,
          proposer: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 2: {
              obj.term = reader.uint64Number()
              break
            }
            case 3: {
              obj.type = EntryType.codec().decode(reader)
              break
            }
            case 4: {
              obj.time = reader.double()
              break
            }
            case 5: {
              obj.proposer = reader.string()
              break
            }
            case 6: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<RunEntry>): Uint8Array => {
    return encodeMessage(obj, RunEntry.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RunEntry>): RunEntry => {
    return decodeMessage(buf, RunEntry.codec(), opts)
  }
}

export interface Entries {
  firstIndex: number
  entries: RunEntry[]
}

export namespace Entries {
  let _codec: Codec<Entries>

  export const codec = (): Codec<Entries> => {
    if (_codec == null) {
      _codec = message<Entries>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.firstIndex != null && obj.firstIndex !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.firstIndex)
        }

        if (obj.entries != null) {
          for (const value of obj.entries) {
            w.uint32(18)
            RunEntry.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          firstIndex: 0,
          entries: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.firstIndex = reader.uint64Number()
              break
            }
            case 2: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - map field "entries" had too many elements')
              }

              obj.entries.push(RunEntry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.entries$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<Entries>): Uint8Array => {
    return encodeMessage(obj, Entries.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Entries>): Entries => {
    return decodeMessage(buf, Entries.codec(), opts)
  }
}

export interface HardState {
  term: number
  vote?: string
  commit: number
}

export namespace HardState {
  let _codec: Codec<HardState>

  export const codec = (): Codec<HardState> => {
    if (_codec == null) {
      _codec = message<HardState>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if (obj.vote != null) {
          w.uint32(18)
          w.string(obj.vote)
        }

        if ((obj.commit != null && obj.commit !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.commit)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          commit: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.vote = reader.string()
              break
            }
            case 3: {
              obj.commit = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<HardState>): Uint8Array => {
    return encodeMessage(obj, HardState.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HardState>): HardState => {
    return decodeMessage(buf, HardState.codec(), opts)
  }
}

export interface ConfState {
  voters: string[]
  learners: string[]
}

export namespace ConfState {
  let _codec: Codec<ConfState>

  export const codec = (): Codec<ConfState> => {
    if (_codec == null) {
      _codec = message<ConfState>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.voters != null) {
          for (const value of obj.voters) {
            w.uint32(10)
            w.string(value)
          }
        }

        if (obj.learners != null) {
          for (const value of obj.learners) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          voters: [],
          learners: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.voters != null && obj.voters.length === opts.limits.voters) {
                throw new MaxLengthError('Decode error - map field "voters" had too many elements')
              }

              obj.voters.push(reader.string())
              break
            }
            case 2: {
              if (opts.limits?.learners != null && obj.learners.length === opts.limits.learners) {
                throw new MaxLengthError('Decode error - map field "learners" had too many elements')
              }

              obj.learners.push(reader.string())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<ConfState>): Uint8Array => {
    return encodeMessage(obj, ConfState.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ConfState>): ConfState => {
    return decodeMessage(buf, ConfState.codec(), opts)
  }
}

export interface Membership {
  index: number
  conf?: ConfState
}

export namespace Membership {
  let _codec: Codec<Membership>

  export const codec = (): Codec<Membership> => {
    if (_codec == null) {
      _codec = message<Membership>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if (obj.conf != null) {
          w.uint32(18)
          ConfState.codec().encode(obj.conf, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.conf = ConfState.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.conf
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<Membership>): Uint8Array => {
    return encodeMessage(obj, Membership.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Membership>): Membership => {
    return decodeMessage(buf, Membership.codec(), opts)
  }
}

export enum ConfChangeType {
  ADD_VOTER = 'ADD_VOTER',
  ADD_LEARNER = 'ADD_LEARNER',
  REMOVE = 'REMOVE'
}

enum __ConfChangeTypeValues {
  ADD_VOTER = 0,
  ADD_LEARNER = 1,
  REMOVE = 2
}

export namespace ConfChangeType {
  export const codec = (): Codec<ConfChangeType> => {
    return enumeration<ConfChangeType>(__ConfChangeTypeValues)
  }
}

export interface ConfChange {
  type: ConfChangeType
  node: string
}

export namespace ConfChange {
  let _codec: Codec<ConfChange>

  export const codec = (): Codec<ConfChange> => {
    if (_codec == null) {
      _codec = message<ConfChange>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __ConfChangeTypeValues[obj.type] !== 0) {
          w.uint32(8)
          ConfChangeType.codec().encode(obj.type, w)
        }

        if ((obj.node != null && obj.node !== '')) {
          w.uint32(18)
          w.string(obj.node)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: ConfChangeType.ADD_VOTER,
          node: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = ConfChangeType.codec().decode(reader)
              break
            }
            case 2: {
              obj.node = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<ConfChange>): Uint8Array => {
    return encodeMessage(obj, ConfChange.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ConfChange>): ConfChange => {
    return decodeMessage(buf, ConfChange.codec(), opts)
  }
}

export interface SnapshotMeta {
  index: number
  term: number
  conf?: ConfState
}

export namespace SnapshotMeta {
  let _codec: Codec<SnapshotMeta>

  export const codec = (): Codec<SnapshotMeta> => {
    if (_codec == null) {
      _codec = message<SnapshotMeta>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.term)
        }

        if (obj.conf != null) {
          w.uint32(26)
          ConfState.codec().encode(obj.conf, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          term: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.term = reader.uint64Number()
              break
            }
            case 3: {
              obj.conf = ConfState.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.conf
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<SnapshotMeta>): Uint8Array => {
    return encodeMessage(obj, SnapshotMeta.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotMeta>): SnapshotMeta => {
    return decodeMessage(buf, SnapshotMeta.codec(), opts)
  }
}

export interface Snapshot {
  meta?: SnapshotMeta
  data?: Uint8Array
}

export namespace Snapshot {
  let _codec: Codec<Snapshot>

  export const codec = (): Codec<Snapshot> => {
    if (_codec == null) {
      _codec = message<Snapshot>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.meta != null) {
          w.uint32(10)
          SnapshotMeta.codec().encode(obj.meta, w)
        }

        if (obj.data != null) {
          w.uint32(18)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.meta = SnapshotMeta.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.meta
              })
              break
            }
            case 2: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<Snapshot>): Uint8Array => {
    return encodeMessage(obj, Snapshot.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Snapshot>): Snapshot => {
    return decodeMessage(buf, Snapshot.codec(), opts)
  }
}

export interface VoteRequest {
  pre: boolean
  lastIndex: number
  lastTerm: number
  transfer: boolean
}

export namespace VoteRequest {
  let _codec: Codec<VoteRequest>

  export const codec = (): Codec<VoteRequest> => {
    if (_codec == null) {
      _codec = message<VoteRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.pre != null && obj.pre !== false)) {
          w.uint32(8)
          w.bool(obj.pre)
        }

        if ((obj.lastIndex != null && obj.lastIndex !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.lastIndex)
        }

        if ((obj.lastTerm != null && obj.lastTerm !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.lastTerm)
        }

        if ((obj.transfer != null && obj.transfer !== false)) {
          w.uint32(32)
          w.bool(obj.transfer)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pre: false,
          lastIndex: 0,
          lastTerm: 0,
          transfer: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.pre = reader.bool()
              break
            }
            case 2: {
              obj.lastIndex = reader.uint64Number()
              break
            }
            case 3: {
              obj.lastTerm = reader.uint64Number()
              break
            }
            case 4: {
              obj.transfer = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<VoteRequest>): Uint8Array => {
    return encodeMessage(obj, VoteRequest.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoteRequest>): VoteRequest => {
    return decodeMessage(buf, VoteRequest.codec(), opts)
  }
}

export interface VoteResponse {
  pre: boolean
  reject: boolean
  leader: string
}

export namespace VoteResponse {
  let _codec: Codec<VoteResponse>

  export const codec = (): Codec<VoteResponse> => {
    if (_codec == null) {
      _codec = message<VoteResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.pre != null && obj.pre !== false)) {
          w.uint32(8)
          w.bool(obj.pre)
        }

        if ((obj.reject != null && obj.reject !== false)) {
          w.uint32(16)
          w.bool(obj.reject)
        }

        if ((obj.leader != null && obj.leader !== '')) {
          w.uint32(26)
          w.string(obj.leader)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          pre: false,
          reject: false,
          leader: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.pre = reader.bool()
              break
            }
            case 2: {
              obj.reject = reader.bool()
              break
            }
            case 3: {
              obj.leader = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<VoteResponse>): Uint8Array => {
    return encodeMessage(obj, VoteResponse.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<VoteResponse>): VoteResponse => {
    return decodeMessage(buf, VoteResponse.codec(), opts)
  }
}

export interface AppendRequest {
  prevIndex: number
  prevTerm: number
  commit: number
  entries: RunEntry[]
  probe: number
}

export namespace AppendRequest {
  let _codec: Codec<AppendRequest>

  export const codec = (): Codec<AppendRequest> => {
    if (_codec == null) {
      _codec = message<AppendRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.prevIndex != null && obj.prevIndex !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.prevIndex)
        }

        if ((obj.prevTerm != null && obj.prevTerm !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.prevTerm)
        }

        if ((obj.commit != null && obj.commit !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.commit)
        }

        if (obj.entries != null) {
          for (const value of obj.entries) {
            w.uint32(34)
            RunEntry.codec().encode(value, w)
          }
        }

        if ((obj.probe != null && obj.probe !== 0)) {
          w.uint32(40)
          w.uint32(obj.probe)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          prevIndex: 0,
          prevTerm: 0,
          commit: 0,
          entries: [],
          probe: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.prevIndex = reader.uint64Number()
              break
            }
            case 2: {
              obj.prevTerm = reader.uint64Number()
              break
            }
            case 3: {
              obj.commit = reader.uint64Number()
              break
            }
            case 4: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - map field "entries" had too many elements')
              }

              obj.entries.push(RunEntry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.entries$
              }))
              break
            }
            case 5: {
              obj.probe = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<AppendRequest>): Uint8Array => {
    return encodeMessage(obj, AppendRequest.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AppendRequest>): AppendRequest => {
    return decodeMessage(buf, AppendRequest.codec(), opts)
  }
}

export interface AppendResponse {
  index: number
  reject: boolean
  hintIndex: number
  hintTerm: number
  probe: number
}

export namespace AppendResponse {
  let _codec: Codec<AppendResponse>

  export const codec = (): Codec<AppendResponse> => {
    if (_codec == null) {
      _codec = message<AppendResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.reject != null && obj.reject !== false)) {
          w.uint32(16)
          w.bool(obj.reject)
        }

        if ((obj.hintIndex != null && obj.hintIndex !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.hintIndex)
        }

        if ((obj.hintTerm != null && obj.hintTerm !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.hintTerm)
        }

        if ((obj.probe != null && obj.probe !== 0)) {
          w.uint32(40)
          w.uint32(obj.probe)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          reject: false,
          hintIndex: 0,
          hintTerm: 0,
          probe: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.reject = reader.bool()
              break
            }
            case 3: {
              obj.hintIndex = reader.uint64Number()
              break
            }
            case 4: {
              obj.hintTerm = reader.uint64Number()
              break
            }
            case 5: {
              obj.probe = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<AppendResponse>): Uint8Array => {
    return encodeMessage(obj, AppendResponse.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AppendResponse>): AppendResponse => {
    return decodeMessage(buf, AppendResponse.codec(), opts)
  }
}

export interface HeartbeatRequest {
  commit: number
  ctx: string
  transferee: string
}

export namespace HeartbeatRequest {
  let _codec: Codec<HeartbeatRequest>

  export const codec = (): Codec<HeartbeatRequest> => {
    if (_codec == null) {
      _codec = message<HeartbeatRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.commit != null && obj.commit !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.commit)
        }

        if ((obj.ctx != null && obj.ctx !== '')) {
          w.uint32(18)
          w.string(obj.ctx)
        }

        if ((obj.transferee != null && obj.transferee !== '')) {
          w.uint32(26)
          w.string(obj.transferee)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          commit: 0,
          ctx: '',
          transferee: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.commit = reader.uint64Number()
              break
            }
            case 2: {
              obj.ctx = reader.string()
              break
            }
            case 3: {
              obj.transferee = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<HeartbeatRequest>): Uint8Array => {
    return encodeMessage(obj, HeartbeatRequest.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeartbeatRequest>): HeartbeatRequest => {
    return decodeMessage(buf, HeartbeatRequest.codec(), opts)
  }
}

export interface HeartbeatResponse {
  ctx: string
  clock: number
}

export namespace HeartbeatResponse {
  let _codec: Codec<HeartbeatResponse>

  export const codec = (): Codec<HeartbeatResponse> => {
    if (_codec == null) {
      _codec = message<HeartbeatResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ctx != null && obj.ctx !== '')) {
          w.uint32(10)
          w.string(obj.ctx)
        }

        if ((obj.clock != null && obj.clock !== 0)) {
          w.uint32(17)
          w.double(obj.clock)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ctx: '',
          clock: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ctx = reader.string()
              break
            }
            case 2: {
              obj.clock = reader.double()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<HeartbeatResponse>): Uint8Array => {
    return encodeMessage(obj, HeartbeatResponse.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HeartbeatResponse>): HeartbeatResponse => {
    return decodeMessage(buf, HeartbeatResponse.codec(), opts)
  }
}

export interface SnapshotChunk {
  meta?: SnapshotMeta
  offset: number
  total: number
  chunk?: Uint8Array
}

export namespace SnapshotChunk {
  let _codec: Codec<SnapshotChunk>

  export const codec = (): Codec<SnapshotChunk> => {
    if (_codec == null) {
      _codec = message<SnapshotChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.meta != null) {
          w.uint32(10)
          SnapshotMeta.codec().encode(obj.meta, w)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.offset)
        }

        if ((obj.total != null && obj.total !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.total)
        }

        if (obj.chunk != null) {
          w.uint32(34)
          w.bytes(obj.chunk)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          offset: 0,
          total: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.meta = SnapshotMeta.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.meta
              })
              break
            }
            case 2: {
              obj.offset = reader.uint64Number()
              break
            }
            case 3: {
              obj.total = reader.uint64Number()
              break
            }
            case 4: {
              obj.chunk = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<SnapshotChunk>): Uint8Array => {
    return encodeMessage(obj, SnapshotChunk.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotChunk>): SnapshotChunk => {
    return decodeMessage(buf, SnapshotChunk.codec(), opts)
  }
}

export interface SnapshotResponse {
  index: number
  offset: number
  reject: boolean
}

export namespace SnapshotResponse {
  let _codec: Codec<SnapshotResponse>

  export const codec = (): Codec<SnapshotResponse> => {
    if (_codec == null) {
      _codec = message<SnapshotResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.offset)
        }

        if ((obj.reject != null && obj.reject !== false)) {
          w.uint32(24)
          w.bool(obj.reject)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          offset: 0,
          reject: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.offset = reader.uint64Number()
              break
            }
            case 3: {
              obj.reject = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<SnapshotResponse>): Uint8Array => {
    return encodeMessage(obj, SnapshotResponse.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotResponse>): SnapshotResponse => {
    return decodeMessage(buf, SnapshotResponse.codec(), opts)
  }
}

export interface Proposal {
  type: EntryType
  data?: Uint8Array
}

export namespace Proposal {
  let _codec: Codec<Proposal>

  export const codec = (): Codec<Proposal> => {
    if (_codec == null) {
      _codec = message<Proposal>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __EntryTypeValues[obj.type] !== 0) {
          w.uint32(8)
          EntryType.codec().encode(obj.type, w)
        }

        if (obj.data != null) {
          w.uint32(18)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: EntryType.normal
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = EntryType.codec().decode(reader)
              break
            }
            case 2: {
              obj.data = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<Proposal>): Uint8Array => {
    return encodeMessage(obj, Proposal.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Proposal>): Proposal => {
    return decodeMessage(buf, Proposal.codec(), opts)
  }
}

export interface ProposalForward {
  entries: Proposal[]
}

export namespace ProposalForward {
  let _codec: Codec<ProposalForward>

  export const codec = (): Codec<ProposalForward> => {
    if (_codec == null) {
      _codec = message<ProposalForward>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.entries != null) {
          for (const value of obj.entries) {
            w.uint32(10)
            Proposal.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          entries: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - map field "entries" had too many elements')
              }

              obj.entries.push(Proposal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.entries$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<ProposalForward>): Uint8Array => {
    return encodeMessage(obj, ProposalForward.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProposalForward>): ProposalForward => {
    return decodeMessage(buf, ProposalForward.codec(), opts)
  }
}

export interface ReadIndexRequest {
  ctx: string
}

export namespace ReadIndexRequest {
  let _codec: Codec<ReadIndexRequest>

  export const codec = (): Codec<ReadIndexRequest> => {
    if (_codec == null) {
      _codec = message<ReadIndexRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ctx != null && obj.ctx !== '')) {
          w.uint32(10)
          w.string(obj.ctx)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ctx: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ctx = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<ReadIndexRequest>): Uint8Array => {
    return encodeMessage(obj, ReadIndexRequest.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReadIndexRequest>): ReadIndexRequest => {
    return decodeMessage(buf, ReadIndexRequest.codec(), opts)
  }
}

export interface ReadIndexResponse {
  ctx: string
  index: number
  reject: boolean
  leader: string
}

export namespace ReadIndexResponse {
  let _codec: Codec<ReadIndexResponse>

  export const codec = (): Codec<ReadIndexResponse> => {
    if (_codec == null) {
      _codec = message<ReadIndexResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ctx != null && obj.ctx !== '')) {
          w.uint32(10)
          w.string(obj.ctx)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.index)
        }

        if ((obj.reject != null && obj.reject !== false)) {
          w.uint32(24)
          w.bool(obj.reject)
        }

        if ((obj.leader != null && obj.leader !== '')) {
          w.uint32(34)
          w.string(obj.leader)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ctx: '',
          index: 0,
          reject: false,
          leader: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ctx = reader.string()
              break
            }
            case 2: {
              obj.index = reader.uint64Number()
              break
            }
            case 3: {
              obj.reject = reader.bool()
              break
            }
            case 4: {
              obj.leader = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<ReadIndexResponse>): Uint8Array => {
    return encodeMessage(obj, ReadIndexResponse.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReadIndexResponse>): ReadIndexResponse => {
    return decodeMessage(buf, ReadIndexResponse.codec(), opts)
  }
}

export interface TimeoutNow {}

export namespace TimeoutNow {
  let _codec: Codec<TimeoutNow>

  export const codec = (): Codec<TimeoutNow> => {
    if (_codec == null) {
      _codec = message<TimeoutNow>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<TimeoutNow>): Uint8Array => {
    return encodeMessage(obj, TimeoutNow.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TimeoutNow>): TimeoutNow => {
    return decodeMessage(buf, TimeoutNow.codec(), opts)
  }
}

export interface Message {
  from: string
  to: string
  term: number
  vote?: VoteRequest
  voteResp?: VoteResponse
  app?: AppendRequest
  appResp?: AppendResponse
  heartbeat?: HeartbeatRequest
  heartbeatResp?: HeartbeatResponse
  snap?: SnapshotChunk
  snapResp?: SnapshotResponse
  prop?: ProposalForward
  readIndex?: ReadIndexRequest
  readIndexResp?: ReadIndexResponse
  timeoutNow?: TimeoutNow
}

export namespace Message {
  let _codec: Codec<Message>

  export const codec = (): Codec<Message> => {
    if (_codec == null) {
      _codec = message<Message>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.from != null && obj.from !== '')) {
          w.uint32(10)
          w.string(obj.from)
        }

        if ((obj.to != null && obj.to !== '')) {
          w.uint32(18)
          w.string(obj.to)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.term)
        }

        if (obj.vote != null) {
          w.uint32(34)
          VoteRequest.codec().encode(obj.vote, w)
        }

        if (obj.voteResp != null) {
          w.uint32(42)
          VoteResponse.codec().encode(obj.voteResp, w)
        }

        if (obj.app != null) {
          w.uint32(50)
          AppendRequest.codec().encode(obj.app, w)
        }

        if (obj.appResp != null) {
          w.uint32(58)
          AppendResponse.codec().encode(obj.appResp, w)
        }

        if (obj.heartbeat != null) {
          w.uint32(66)
          HeartbeatRequest.codec().encode(obj.heartbeat, w)
        }

        if (obj.heartbeatResp != null) {
          w.uint32(74)
          HeartbeatResponse.codec().encode(obj.heartbeatResp, w)
        }

        if (obj.snap != null) {
          w.uint32(82)
          SnapshotChunk.codec().encode(obj.snap, w)
        }

        if (obj.snapResp != null) {
          w.uint32(90)
          SnapshotResponse.codec().encode(obj.snapResp, w)
        }

        if (obj.prop != null) {
          w.uint32(98)
          ProposalForward.codec().encode(obj.prop, w)
        }

        if (obj.readIndex != null) {
          w.uint32(106)
          ReadIndexRequest.codec().encode(obj.readIndex, w)
        }

        if (obj.readIndexResp != null) {
          w.uint32(114)
          ReadIndexResponse.codec().encode(obj.readIndexResp, w)
        }

        if (obj.timeoutNow != null) {
          w.uint32(122)
          TimeoutNow.codec().encode(obj.timeoutNow, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          from: '',
          to: '',
          term: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.from = reader.string()
              break
            }
            case 2: {
              obj.to = reader.string()
              break
            }
            case 3: {
              obj.term = reader.uint64Number()
              break
            }
            case 4: {
              obj.vote = VoteRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.vote
              })
              break
            }
            case 5: {
              obj.voteResp = VoteResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.voteResp
              })
              break
            }
            case 6: {
              obj.app = AppendRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.app
              })
              break
            }
            case 7: {
              obj.appResp = AppendResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.appResp
              })
              break
            }
            case 8: {
              obj.heartbeat = HeartbeatRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.heartbeat
              })
              break
            }
            case 9: {
              obj.heartbeatResp = HeartbeatResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.heartbeatResp
              })
              break
            }
            case 10: {
              obj.snap = SnapshotChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.snap
              })
              break
            }
            case 11: {
              obj.snapResp = SnapshotResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.snapResp
              })
              break
            }
            case 12: {
              obj.prop = ProposalForward.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.prop
              })
              break
            }
            case 13: {
              obj.readIndex = ReadIndexRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.readIndex
              })
              break
            }
            case 14: {
              obj.readIndexResp = ReadIndexResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.readIndexResp
              })
              break
            }
            case 15: {
              obj.timeoutNow = TimeoutNow.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.timeoutNow
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      })
    }

    return _codec
  }

  export const encode = (obj: Partial<Message>): Uint8Array => {
    return encodeMessage(obj, Message.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Message>): Message => {
    return decodeMessage(buf, Message.codec(), opts)
  }
}

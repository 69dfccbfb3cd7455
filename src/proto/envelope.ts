/* eslint-disable import/export */
/* eslint-disable complexity */
/* eslint-disable @typescript-eslint/no-namespace */
/* eslint-disable @typescript-eslint/no-unnecessary-boolean-literal-compare */
/* eslint-disable @typescript-eslint/no-empty-interface */
/* eslint-disable import/consistent-type-specifier-style */
/* eslint-disable @typescript-eslint/no-unused-vars */

import { decodeMessage, encodeMessage, MaxLengthError, message } from 'protons-runtime'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface AddressEntry {
  id: string
  addrs: string[]
}

export namespace AddressEntry {
  let _codec: Codec<AddressEntry>

  export const codec = (): Codec<AddressEntry> => {
    if (_codec == null) {
      _codec = message<AddressEntry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if (obj.addrs != null) {
          for (const value of obj.addrs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: '',
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - map field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
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

  export const encode = (obj: Partial<AddressEntry>): Uint8Array => {
    return encodeMessage(obj, AddressEntry.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AddressEntry>): AddressEntry => {
    return decodeMessage(buf, AddressEntry.codec(), opts)
  }
}

export interface ProbeEntry {
  nonce: string
  value: string
}

export namespace ProbeEntry {
  let _codec: Codec<ProbeEntry>

  export const codec = (): Codec<ProbeEntry> => {
    if (_codec == null) {
      _codec = message<ProbeEntry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.nonce != null && obj.nonce !== '')) {
          w.uint32(10)
          w.string(obj.nonce)
        }

        if ((obj.value != null && obj.value !== '')) {
          w.uint32(18)
          w.string(obj.value)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          nonce: '',
          value: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.nonce = reader.string()
              break
            }
            case 2: {
              obj.value = reader.string()
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

  export const encode = (obj: Partial<ProbeEntry>): Uint8Array => {
    return encodeMessage(obj, ProbeEntry.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProbeEntry>): ProbeEntry => {
    return decodeMessage(buf, ProbeEntry.codec(), opts)
  }
}

export interface LeaveEntry {
  id: string
}

export namespace LeaveEntry {
  let _codec: Codec<LeaveEntry>

  export const codec = (): Codec<LeaveEntry> => {
    if (_codec == null) {
      _codec = message<LeaveEntry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.string()
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

  export const encode = (obj: Partial<LeaveEntry>): Uint8Array => {
    return encodeMessage(obj, LeaveEntry.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaveEntry>): LeaveEntry => {
    return decodeMessage(buf, LeaveEntry.codec(), opts)
  }
}

export interface NodeEntry {
  address?: AddressEntry
  probe?: ProbeEntry
  app?: Uint8Array
  leave?: LeaveEntry
  request?: string
}

export namespace NodeEntry {
  let _codec: Codec<NodeEntry>

  export const codec = (): Codec<NodeEntry> => {
    if (_codec == null) {
      _codec = message<NodeEntry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.address != null) {
          w.uint32(10)
          AddressEntry.codec().encode(obj.address, w)
        }

        if (obj.probe != null) {
          w.uint32(18)
          ProbeEntry.codec().encode(obj.probe, w)
        }

        if (obj.app != null) {
          w.uint32(26)
          w.bytes(obj.app)
        }

        if (obj.leave != null) {
          w.uint32(34)
          LeaveEntry.codec().encode(obj.leave, w)
        }

        if (obj.request != null) {
          w.uint32(42)
          w.string(obj.request)
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
              obj.address = AddressEntry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.address
              })
              break
            }
            case 2: {
              obj.probe = ProbeEntry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.probe
              })
              break
            }
            case 3: {
              obj.app = reader.bytes()
              break
            }
            case 4: {
              obj.leave = LeaveEntry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.leave
              })
              break
            }
            case 5: {
              obj.request = reader.string()
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

  export const encode = (obj: Partial<NodeEntry>): Uint8Array => {
    return encodeMessage(obj, NodeEntry.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NodeEntry>): NodeEntry => {
    return decodeMessage(buf, NodeEntry.codec(), opts)
  }
}

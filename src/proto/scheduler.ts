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

export interface Command {
  submit?: Submit
  claim?: Claim
  heartbeat?: Heartbeat
  finish?: Finish
  cancel?: Cancel
  tick?: Tick
  schedulePut?: SchedulePut
  scheduleChange?: ScheduleChange
  fire?: Fire
  rerun?: Rerun
  poolSet?: PoolSet
  submitPart?: SubmitPart
}

export namespace Command {
  let _codec: Codec<Command>

  export const codec = (): Codec<Command> => {
    if (_codec == null) {
      _codec = message<Command>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.submit != null) {
          w.uint32(10)
          Submit.codec().encode(obj.submit, w)
        }

        if (obj.claim != null) {
          w.uint32(18)
          Claim.codec().encode(obj.claim, w)
        }

        if (obj.heartbeat != null) {
          w.uint32(26)
          Heartbeat.codec().encode(obj.heartbeat, w)
        }

        if (obj.finish != null) {
          w.uint32(34)
          Finish.codec().encode(obj.finish, w)
        }

        if (obj.cancel != null) {
          w.uint32(42)
          Cancel.codec().encode(obj.cancel, w)
        }

        if (obj.tick != null) {
          w.uint32(50)
          Tick.codec().encode(obj.tick, w)
        }

        if (obj.schedulePut != null) {
          w.uint32(58)
          SchedulePut.codec().encode(obj.schedulePut, w)
        }

        if (obj.scheduleChange != null) {
          w.uint32(66)
          ScheduleChange.codec().encode(obj.scheduleChange, w)
        }

        if (obj.fire != null) {
          w.uint32(74)
          Fire.codec().encode(obj.fire, w)
        }

        if (obj.rerun != null) {
          w.uint32(162)
          Rerun.codec().encode(obj.rerun, w)
        }

        if (obj.poolSet != null) {
          w.uint32(82)
          PoolSet.codec().encode(obj.poolSet, w)
        }

        if (obj.submitPart != null) {
          w.uint32(170)
          SubmitPart.codec().encode(obj.submitPart, w)
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
              obj.submit = Submit.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.submit
              })
              break
            }
            case 2: {
              obj.claim = Claim.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.claim
              })
              break
            }
            case 3: {
              obj.heartbeat = Heartbeat.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.heartbeat
              })
              break
            }
            case 4: {
              obj.finish = Finish.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.finish
              })
              break
            }
            case 5: {
              obj.cancel = Cancel.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.cancel
              })
              break
            }
            case 6: {
              obj.tick = Tick.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tick
              })
              break
            }
            case 7: {
              obj.schedulePut = SchedulePut.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.schedulePut
              })
              break
            }
            case 8: {
              obj.scheduleChange = ScheduleChange.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.scheduleChange
              })
              break
            }
            case 9: {
              obj.fire = Fire.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.fire
              })
              break
            }
            case 20: {
              obj.rerun = Rerun.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.rerun
              })
              break
            }
            case 10: {
              obj.poolSet = PoolSet.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.poolSet
              })
              break
            }
            case 21: {
              obj.submitPart = SubmitPart.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.submitPart
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

  export const encode = (obj: Partial<Command>): Uint8Array => {
    return encodeMessage(obj, Command.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Command>): Command => {
    return decodeMessage(buf, Command.codec(), opts)
  }
}

export interface PoolSet {
  name: string
  size: number
}

export namespace PoolSet {
  let _codec: Codec<PoolSet>

  export const codec = (): Codec<PoolSet> => {
    if (_codec == null) {
      _codec = message<PoolSet>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.size)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          size: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.size = reader.uint64Number()
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

  export const encode = (obj: Partial<PoolSet>): Uint8Array => {
    return encodeMessage(obj, PoolSet.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PoolSet>): PoolSet => {
    return decodeMessage(buf, PoolSet.codec(), opts)
  }
}

export interface Label {
  key: string
  value: string
}

export namespace Label {
  let _codec: Codec<Label>

  export const codec = (): Codec<Label> => {
    if (_codec == null) {
      _codec = message<Label>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.key != null && obj.key !== '')) {
          w.uint32(10)
          w.string(obj.key)
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
          key: '',
          value: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.key = reader.string()
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

  export const encode = (obj: Partial<Label>): Uint8Array => {
    return encodeMessage(obj, Label.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Label>): Label => {
    return decodeMessage(buf, Label.codec(), opts)
  }
}

export enum Overlap {
  ALLOW = 'ALLOW',
  FORBID = 'FORBID',
  REPLACE = 'REPLACE'
}

enum __OverlapValues {
  ALLOW = 0,
  FORBID = 1,
  REPLACE = 2
}

export namespace Overlap {
  export const codec = (): Codec<Overlap> => {
    return enumeration<Overlap>(__OverlapValues)
  }
}

export enum Catchup {
  NONE = 'NONE',
  LATEST = 'LATEST',
  ALL = 'ALL'
}

enum __CatchupValues {
  NONE = 0,
  LATEST = 1,
  ALL = 2
}

export namespace Catchup {
  export const codec = (): Codec<Catchup> => {
    return enumeration<Catchup>(__CatchupValues)
  }
}

export interface Schedule {
  name: string
  cron?: string
  everyMs?: number
  timezone: string
  overlap: Overlap
  catchup: Catchup
  paused: boolean
  params: EnvVar[]
  dag?: JobSpec
}

export namespace Schedule {
  let _codec: Codec<Schedule>

  export const codec = (): Codec<Schedule> => {
    if (_codec == null) {
      _codec = message<Schedule>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if (obj.cron != null) {
          w.uint32(18)
          w.string(obj.cron)
        }

        if (obj.everyMs != null) {
          w.uint32(24)
          w.uint64Number(obj.everyMs)
        }

        if ((obj.timezone != null && obj.timezone !== '')) {
          w.uint32(34)
          w.string(obj.timezone)
        }

        if (obj.overlap != null && __OverlapValues[obj.overlap] !== 0) {
          w.uint32(40)
          Overlap.codec().encode(obj.overlap, w)
        }

        if (obj.catchup != null && __CatchupValues[obj.catchup] !== 0) {
          w.uint32(48)
          Catchup.codec().encode(obj.catchup, w)
        }

        if ((obj.paused != null && obj.paused !== false)) {
          w.uint32(56)
          w.bool(obj.paused)
        }

        if (obj.params != null) {
          for (const value of obj.params) {
            w.uint32(66)
            EnvVar.codec().encode(value, w)
          }
        }

        if (obj.dag != null) {
          w.uint32(74)
          JobSpec.codec().encode(obj.dag, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          timezone: '',
          overlap: Overlap.ALLOW,
          catchup: Catchup.NONE,
          paused: false,
          params: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.cron = reader.string()
              break
            }
            case 3: {
              obj.everyMs = reader.uint64Number()
              break
            }
            case 4: {
              obj.timezone = reader.string()
              break
            }
            case 5: {
              obj.overlap = Overlap.codec().decode(reader)
              break
            }
            case 6: {
              obj.catchup = Catchup.codec().decode(reader)
              break
            }
            case 7: {
              obj.paused = reader.bool()
              break
            }
            case 8: {
              if (opts.limits?.params != null && obj.params.length === opts.limits.params) {
                throw new MaxLengthError('Decode error - map field "params" had too many elements')
              }

              obj.params.push(EnvVar.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.params$
              }))
              break
            }
            case 9: {
              obj.dag = JobSpec.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.dag
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

  export const encode = (obj: Partial<Schedule>): Uint8Array => {
    return encodeMessage(obj, Schedule.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Schedule>): Schedule => {
    return decodeMessage(buf, Schedule.codec(), opts)
  }
}

export interface SchedulePut {
  request: string
  schedule?: Schedule
  at: number
}

export namespace SchedulePut {
  let _codec: Codec<SchedulePut>

  export const codec = (): Codec<SchedulePut> => {
    if (_codec == null) {
      _codec = message<SchedulePut>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.request != null && obj.request !== '')) {
          w.uint32(10)
          w.string(obj.request)
        }

        if (obj.schedule != null) {
          w.uint32(18)
          Schedule.codec().encode(obj.schedule, w)
        }

        if ((obj.at != null && obj.at !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.at)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          request: '',
          at: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.request = reader.string()
              break
            }
            case 2: {
              obj.schedule = Schedule.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.schedule
              })
              break
            }
            case 3: {
              obj.at = reader.uint64Number()
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

  export const encode = (obj: Partial<SchedulePut>): Uint8Array => {
    return encodeMessage(obj, SchedulePut.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SchedulePut>): SchedulePut => {
    return decodeMessage(buf, SchedulePut.codec(), opts)
  }
}

export enum ScheduleChangeKind {
  DELETE = 'DELETE',
  PAUSE = 'PAUSE',
  RESUME = 'RESUME',
  TRIGGER = 'TRIGGER'
}

enum __ScheduleChangeKindValues {
  DELETE = 0,
  PAUSE = 1,
  RESUME = 2,
  TRIGGER = 3
}

export namespace ScheduleChangeKind {
  export const codec = (): Codec<ScheduleChangeKind> => {
    return enumeration<ScheduleChangeKind>(__ScheduleChangeKindValues)
  }
}

export interface ScheduleChange {
  request: string
  name: string
  kind: ScheduleChangeKind
  job?: string
  at: number
}

export namespace ScheduleChange {
  let _codec: Codec<ScheduleChange>

  export const codec = (): Codec<ScheduleChange> => {
    if (_codec == null) {
      _codec = message<ScheduleChange>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.request != null && obj.request !== '')) {
          w.uint32(10)
          w.string(obj.request)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(18)
          w.string(obj.name)
        }

        if (obj.kind != null && __ScheduleChangeKindValues[obj.kind] !== 0) {
          w.uint32(24)
          ScheduleChangeKind.codec().encode(obj.kind, w)
        }

        if (obj.job != null) {
          w.uint32(34)
          w.string(obj.job)
        }

        if ((obj.at != null && obj.at !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.at)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          request: '',
          name: '',
          kind: ScheduleChangeKind.DELETE,
          at: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.request = reader.string()
              break
            }
            case 2: {
              obj.name = reader.string()
              break
            }
            case 3: {
              obj.kind = ScheduleChangeKind.codec().decode(reader)
              break
            }
            case 4: {
              obj.job = reader.string()
              break
            }
            case 5: {
              obj.at = reader.uint64Number()
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

  export const encode = (obj: Partial<ScheduleChange>): Uint8Array => {
    return encodeMessage(obj, ScheduleChange.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ScheduleChange>): ScheduleChange => {
    return decodeMessage(buf, ScheduleChange.codec(), opts)
  }
}

export interface Fire {
  schedules: string[]
  schedule: number[]
  tick: number[]
}

export namespace Fire {
  let _codec: Codec<Fire>

  export const codec = (): Codec<Fire> => {
    if (_codec == null) {
      _codec = message<Fire>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.schedules != null) {
          for (const value of obj.schedules) {
            w.uint32(10)
            w.string(value)
          }
        }

        if (obj.schedule != null) {
          for (const value of obj.schedule) {
            w.uint32(16)
            w.uint32(value)
          }
        }

        if (obj.tick != null) {
          for (const value of obj.tick) {
            w.uint32(24)
            w.uint64Number(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          schedules: [],
          schedule: [],
          tick: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.schedules != null && obj.schedules.length === opts.limits.schedules) {
                throw new MaxLengthError('Decode error - map field "schedules" had too many elements')
              }

              obj.schedules.push(reader.string())
              break
            }
            case 2: {
              if (opts.limits?.schedule != null && obj.schedule.length === opts.limits.schedule) {
                throw new MaxLengthError('Decode error - map field "schedule" had too many elements')
              }

              obj.schedule.push(reader.uint32())
              break
            }
            case 3: {
              if (opts.limits?.tick != null && obj.tick.length === opts.limits.tick) {
                throw new MaxLengthError('Decode error - map field "tick" had too many elements')
              }

              obj.tick.push(reader.uint64Number())
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

  export const encode = (obj: Partial<Fire>): Uint8Array => {
    return encodeMessage(obj, Fire.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Fire>): Fire => {
    return decodeMessage(buf, Fire.codec(), opts)
  }
}

export interface Submit {
  id: string
  key?: string
  spec?: JobSpec
}

export namespace Submit {
  let _codec: Codec<Submit>

  export const codec = (): Codec<Submit> => {
    if (_codec == null) {
      _codec = message<Submit>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if (obj.key != null) {
          w.uint32(18)
          w.string(obj.key)
        }

        if (obj.spec != null) {
          w.uint32(26)
          JobSpec.codec().encode(obj.spec, w)
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
            case 2: {
              obj.key = reader.string()
              break
            }
            case 3: {
              obj.spec = JobSpec.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.spec
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

  export const encode = (obj: Partial<Submit>): Uint8Array => {
    return encodeMessage(obj, Submit.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Submit>): Submit => {
    return decodeMessage(buf, Submit.codec(), opts)
  }
}

export interface SubmitPart {
  id: string
  key?: string
  part: number
  parts: number
  spec?: JobSpec
}

export namespace SubmitPart {
  let _codec: Codec<SubmitPart>

  export const codec = (): Codec<SubmitPart> => {
    if (_codec == null) {
      _codec = message<SubmitPart>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if (obj.key != null) {
          w.uint32(18)
          w.string(obj.key)
        }

        if ((obj.part != null && obj.part !== 0)) {
          w.uint32(24)
          w.uint32(obj.part)
        }

        if ((obj.parts != null && obj.parts !== 0)) {
          w.uint32(32)
          w.uint32(obj.parts)
        }

        if (obj.spec != null) {
          w.uint32(42)
          JobSpec.codec().encode(obj.spec, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: '',
          part: 0,
          parts: 0
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
              obj.key = reader.string()
              break
            }
            case 3: {
              obj.part = reader.uint32()
              break
            }
            case 4: {
              obj.parts = reader.uint32()
              break
            }
            case 5: {
              obj.spec = JobSpec.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.spec
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

  export const encode = (obj: Partial<SubmitPart>): Uint8Array => {
    return encodeMessage(obj, SubmitPart.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubmitPart>): SubmitPart => {
    return decodeMessage(buf, SubmitPart.codec(), opts)
  }
}

export interface TaskRefs {
  jobs: string[]
  job: number[]
  task: number[]
}

export namespace TaskRefs {
  let _codec: Codec<TaskRefs>

  export const codec = (): Codec<TaskRefs> => {
    if (_codec == null) {
      _codec = message<TaskRefs>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.jobs != null) {
          for (const value of obj.jobs) {
            w.uint32(10)
            w.string(value)
          }
        }

        if (obj.job != null) {
          for (const value of obj.job) {
            w.uint32(16)
            w.uint32(value)
          }
        }

        if (obj.task != null) {
          for (const value of obj.task) {
            w.uint32(24)
            w.uint32(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobs: [],
          job: [],
          task: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.jobs != null && obj.jobs.length === opts.limits.jobs) {
                throw new MaxLengthError('Decode error - map field "jobs" had too many elements')
              }

              obj.jobs.push(reader.string())
              break
            }
            case 2: {
              if (opts.limits?.job != null && obj.job.length === opts.limits.job) {
                throw new MaxLengthError('Decode error - map field "job" had too many elements')
              }

              obj.job.push(reader.uint32())
              break
            }
            case 3: {
              if (opts.limits?.task != null && obj.task.length === opts.limits.task) {
                throw new MaxLengthError('Decode error - map field "task" had too many elements')
              }

              obj.task.push(reader.uint32())
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

  export const encode = (obj: Partial<TaskRefs>): Uint8Array => {
    return encodeMessage(obj, TaskRefs.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskRefs>): TaskRefs => {
    return decodeMessage(buf, TaskRefs.codec(), opts)
  }
}

export interface Claim {
  node: string
  boot: number
  tasks?: TaskRefs
}

export namespace Claim {
  let _codec: Codec<Claim>

  export const codec = (): Codec<Claim> => {
    if (_codec == null) {
      _codec = message<Claim>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.node != null && obj.node !== '')) {
          w.uint32(10)
          w.string(obj.node)
        }

        if ((obj.boot != null && obj.boot !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.boot)
        }

        if (obj.tasks != null) {
          w.uint32(26)
          TaskRefs.codec().encode(obj.tasks, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          node: '',
          boot: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.node = reader.string()
              break
            }
            case 2: {
              obj.boot = reader.uint64Number()
              break
            }
            case 3: {
              obj.tasks = TaskRefs.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tasks
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

  export const encode = (obj: Partial<Claim>): Uint8Array => {
    return encodeMessage(obj, Claim.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Claim>): Claim => {
    return decodeMessage(buf, Claim.codec(), opts)
  }
}

export interface Heartbeat {
  node: string
  boot: number
  slots: number
  handlers: string[]
  leaseMs: number
  seq: number
  labels: Label[]
  ahead: number
}

export namespace Heartbeat {
  let _codec: Codec<Heartbeat>

  export const codec = (): Codec<Heartbeat> => {
    if (_codec == null) {
      _codec = message<Heartbeat>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.node != null && obj.node !== '')) {
          w.uint32(10)
          w.string(obj.node)
        }

        if ((obj.boot != null && obj.boot !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.boot)
        }

        if ((obj.slots != null && obj.slots !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.slots)
        }

        if (obj.handlers != null) {
          for (const value of obj.handlers) {
            w.uint32(34)
            w.string(value)
          }
        }

        if ((obj.leaseMs != null && obj.leaseMs !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.leaseMs)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.seq)
        }

        if (obj.labels != null) {
          for (const value of obj.labels) {
            w.uint32(58)
            Label.codec().encode(value, w)
          }
        }

        if ((obj.ahead != null && obj.ahead !== 0)) {
          w.uint32(64)
          w.uint64Number(obj.ahead)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          node: '',
          boot: 0,
          slots: 0,
          handlers: [],
          leaseMs: 0,
          seq: 0,
          labels: [],
          ahead: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.node = reader.string()
              break
            }
            case 2: {
              obj.boot = reader.uint64Number()
              break
            }
            case 3: {
              obj.slots = reader.uint64Number()
              break
            }
            case 4: {
              if (opts.limits?.handlers != null && obj.handlers.length === opts.limits.handlers) {
                throw new MaxLengthError('Decode error - map field "handlers" had too many elements')
              }

              obj.handlers.push(reader.string())
              break
            }
            case 5: {
              obj.leaseMs = reader.uint64Number()
              break
            }
            case 6: {
              obj.seq = reader.uint64Number()
              break
            }
            case 7: {
              if (opts.limits?.labels != null && obj.labels.length === opts.limits.labels) {
                throw new MaxLengthError('Decode error - map field "labels" had too many elements')
              }

              obj.labels.push(Label.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.labels$
              }))
              break
            }
            case 8: {
              obj.ahead = reader.uint64Number()
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

  export const encode = (obj: Partial<Heartbeat>): Uint8Array => {
    return encodeMessage(obj, Heartbeat.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Heartbeat => {
    return decodeMessage(buf, Heartbeat.codec(), opts)
  }
}

export enum Outcome {
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  TIMEOUT = 'TIMEOUT',
  ABANDONED = 'ABANDONED'
}

enum __OutcomeValues {
  SUCCEEDED = 0,
  FAILED = 1,
  TIMEOUT = 2,
  ABANDONED = 3
}

export namespace Outcome {
  export const codec = (): Codec<Outcome> => {
    return enumeration<Outcome>(__OutcomeValues)
  }
}

export interface FinishResult {
  job: number
  task: number
  attempt: number
  outcome: Outcome
  exitCode?: number
  durationMs: number
  stdout: string
  stderr: string
  output?: string
}

export namespace FinishResult {
  let _codec: Codec<FinishResult>

  export const codec = (): Codec<FinishResult> => {
    if (_codec == null) {
      _codec = message<FinishResult>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.job != null && obj.job !== 0)) {
          w.uint32(8)
          w.uint32(obj.job)
        }

        if ((obj.task != null && obj.task !== 0)) {
          w.uint32(16)
          w.uint32(obj.task)
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.attempt)
        }

        if (obj.outcome != null && __OutcomeValues[obj.outcome] !== 0) {
          w.uint32(32)
          Outcome.codec().encode(obj.outcome, w)
        }

        if (obj.exitCode != null) {
          w.uint32(40)
          w.sint64Number(obj.exitCode)
        }

        if ((obj.durationMs != null && obj.durationMs !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.durationMs)
        }

        if ((obj.stdout != null && obj.stdout !== '')) {
          w.uint32(58)
          w.string(obj.stdout)
        }

        if ((obj.stderr != null && obj.stderr !== '')) {
          w.uint32(66)
          w.string(obj.stderr)
        }

        if (obj.output != null) {
          w.uint32(74)
          w.string(obj.output)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          job: 0,
          task: 0,
          attempt: 0,
          outcome: Outcome.SUCCEEDED,
          durationMs: 0,
          stdout: '',
          stderr: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.job = reader.uint32()
              break
            }
            case 2: {
              obj.task = reader.uint32()
              break
            }
            case 3: {
              obj.attempt = reader.uint64Number()
              break
            }
            case 4: {
              obj.outcome = Outcome.codec().decode(reader)
              break
            }
            case 5: {
              obj.exitCode = reader.sint64Number()
              break
            }
            case 6: {
              obj.durationMs = reader.uint64Number()
              break
            }
            case 7: {
              obj.stdout = reader.string()
              break
            }
            case 8: {
              obj.stderr = reader.string()
              break
            }
            case 9: {
              obj.output = reader.string()
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

  export const encode = (obj: Partial<FinishResult>): Uint8Array => {
    return encodeMessage(obj, FinishResult.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FinishResult>): FinishResult => {
    return decodeMessage(buf, FinishResult.codec(), opts)
  }
}

export interface Finish {
  node: string
  boot: number
  claimNext: boolean
  jobs: string[]
  results: FinishResult[]
  claims?: TaskRefs
}

export namespace Finish {
  let _codec: Codec<Finish>

  export const codec = (): Codec<Finish> => {
    if (_codec == null) {
      _codec = message<Finish>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.node != null && obj.node !== '')) {
          w.uint32(10)
          w.string(obj.node)
        }

        if ((obj.boot != null && obj.boot !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.boot)
        }

        if ((obj.claimNext != null && obj.claimNext !== false)) {
          w.uint32(24)
          w.bool(obj.claimNext)
        }

        if (obj.jobs != null) {
          for (const value of obj.jobs) {
            w.uint32(34)
            w.string(value)
          }
        }

        if (obj.results != null) {
          for (const value of obj.results) {
            w.uint32(42)
            FinishResult.codec().encode(value, w)
          }
        }

        if (obj.claims != null) {
          w.uint32(50)
          TaskRefs.codec().encode(obj.claims, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          node: '',
          boot: 0,
          claimNext: false,
          jobs: [],
          results: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.node = reader.string()
              break
            }
            case 2: {
              obj.boot = reader.uint64Number()
              break
            }
            case 3: {
              obj.claimNext = reader.bool()
              break
            }
            case 4: {
              if (opts.limits?.jobs != null && obj.jobs.length === opts.limits.jobs) {
                throw new MaxLengthError('Decode error - map field "jobs" had too many elements')
              }

              obj.jobs.push(reader.string())
              break
            }
            case 5: {
              if (opts.limits?.results != null && obj.results.length === opts.limits.results) {
                throw new MaxLengthError('Decode error - map field "results" had too many elements')
              }

              obj.results.push(FinishResult.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.results$
              }))
              break
            }
            case 6: {
              obj.claims = TaskRefs.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.claims
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

  export const encode = (obj: Partial<Finish>): Uint8Array => {
    return encodeMessage(obj, Finish.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Finish>): Finish => {
    return decodeMessage(buf, Finish.codec(), opts)
  }
}

export interface Cancel {
  job: string
}

export namespace Cancel {
  let _codec: Codec<Cancel>

  export const codec = (): Codec<Cancel> => {
    if (_codec == null) {
      _codec = message<Cancel>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.job != null && obj.job !== '')) {
          w.uint32(10)
          w.string(obj.job)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          job: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.job = reader.string()
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

  export const encode = (obj: Partial<Cancel>): Uint8Array => {
    return encodeMessage(obj, Cancel.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Cancel>): Cancel => {
    return decodeMessage(buf, Cancel.codec(), opts)
  }
}

export interface Rerun {
  job: string
  failed: boolean
  tasks: string[]
  downstream: boolean
}

export namespace Rerun {
  let _codec: Codec<Rerun>

  export const codec = (): Codec<Rerun> => {
    if (_codec == null) {
      _codec = message<Rerun>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.job != null && obj.job !== '')) {
          w.uint32(10)
          w.string(obj.job)
        }

        if ((obj.failed != null && obj.failed !== false)) {
          w.uint32(16)
          w.bool(obj.failed)
        }

        if (obj.tasks != null) {
          for (const value of obj.tasks) {
            w.uint32(26)
            w.string(value)
          }
        }

        if ((obj.downstream != null && obj.downstream !== false)) {
          w.uint32(32)
          w.bool(obj.downstream)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          job: '',
          failed: false,
          tasks: [],
          downstream: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.job = reader.string()
              break
            }
            case 2: {
              obj.failed = reader.bool()
              break
            }
            case 3: {
              if (opts.limits?.tasks != null && obj.tasks.length === opts.limits.tasks) {
                throw new MaxLengthError('Decode error - map field "tasks" had too many elements')
              }

              obj.tasks.push(reader.string())
              break
            }
            case 4: {
              obj.downstream = reader.bool()
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

  export const encode = (obj: Partial<Rerun>): Uint8Array => {
    return encodeMessage(obj, Rerun.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Rerun>): Rerun => {
    return decodeMessage(buf, Rerun.codec(), opts)
  }
}

export interface Tick {}

export namespace Tick {
  let _codec: Codec<Tick>

  export const codec = (): Codec<Tick> => {
    if (_codec == null) {
      _codec = message<Tick>((obj, w, opts = {}) => {
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

  export const encode = (obj: Partial<Tick>): Uint8Array => {
    return encodeMessage(obj, Tick.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Tick>): Tick => {
    return decodeMessage(buf, Tick.codec(), opts)
  }
}

export interface JobSpec {
  name: string
  retentionMs: number
  handlers: string[]
  tasks: TaskSpec[]
  defaults?: TaskDefaults
  timeoutMs?: number
  concurrency?: number
}

export namespace JobSpec {
  let _codec: Codec<JobSpec>

  export const codec = (): Codec<JobSpec> => {
    if (_codec == null) {
      _codec = message<JobSpec>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.retentionMs != null && obj.retentionMs !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.retentionMs)
        }

        if (obj.handlers != null) {
          for (const value of obj.handlers) {
            w.uint32(26)
            w.string(value)
          }
        }

        if (obj.tasks != null) {
          for (const value of obj.tasks) {
            w.uint32(34)
            TaskSpec.codec().encode(value, w)
          }
        }

        if (obj.defaults != null) {
          w.uint32(42)
          TaskDefaults.codec().encode(obj.defaults, w)
        }

        if (obj.timeoutMs != null) {
          w.uint32(48)
          w.uint64Number(obj.timeoutMs)
        }

        if (obj.concurrency != null) {
          w.uint32(56)
          w.uint64Number(obj.concurrency)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          retentionMs: 0,
          handlers: [],
          tasks: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.retentionMs = reader.uint64Number()
              break
            }
            case 3: {
              if (opts.limits?.handlers != null && obj.handlers.length === opts.limits.handlers) {
                throw new MaxLengthError('Decode error - map field "handlers" had too many elements')
              }

              obj.handlers.push(reader.string())
              break
            }
            case 4: {
              if (opts.limits?.tasks != null && obj.tasks.length === opts.limits.tasks) {
                throw new MaxLengthError('Decode error - map field "tasks" had too many elements')
              }

              obj.tasks.push(TaskSpec.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tasks$
              }))
              break
            }
            case 5: {
              obj.defaults = TaskDefaults.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.defaults
              })
              break
            }
            case 6: {
              obj.timeoutMs = reader.uint64Number()
              break
            }
            case 7: {
              obj.concurrency = reader.uint64Number()
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

  export const encode = (obj: Partial<JobSpec>): Uint8Array => {
    return encodeMessage(obj, JobSpec.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobSpec>): JobSpec => {
    return decodeMessage(buf, JobSpec.codec(), opts)
  }
}

export interface TaskDefaults {
  retries: number
  backoffMs: number
  timeoutMs: number
  priority: number
  slots: number
}

export namespace TaskDefaults {
  let _codec: Codec<TaskDefaults>

  export const codec = (): Codec<TaskDefaults> => {
    if (_codec == null) {
      _codec = message<TaskDefaults>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.retries != null && obj.retries !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.retries)
        }

        if ((obj.backoffMs != null && obj.backoffMs !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.backoffMs)
        }

        if ((obj.timeoutMs != null && obj.timeoutMs !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.timeoutMs)
        }

        if ((obj.priority != null && obj.priority !== 0)) {
          w.uint32(32)
          w.sint64Number(obj.priority)
        }

        if ((obj.slots != null && obj.slots !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.slots)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          retries: 0,
          backoffMs: 0,
          timeoutMs: 0,
          priority: 0,
          slots: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.retries = reader.uint64Number()
              break
            }
            case 2: {
              obj.backoffMs = reader.uint64Number()
              break
            }
            case 3: {
              obj.timeoutMs = reader.uint64Number()
              break
            }
            case 4: {
              obj.priority = reader.sint64Number()
              break
            }
            case 5: {
              obj.slots = reader.uint64Number()
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

  export const encode = (obj: Partial<TaskDefaults>): Uint8Array => {
    return encodeMessage(obj, TaskDefaults.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskDefaults>): TaskDefaults => {
    return decodeMessage(buf, TaskDefaults.codec(), opts)
  }
}

export interface EnvVar {
  name: string
  value: string
}

export namespace EnvVar {
  let _codec: Codec<EnvVar>

  export const codec = (): Codec<EnvVar> => {
    if (_codec == null) {
      _codec = message<EnvVar>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
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
          name: '',
          value: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
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

  export const encode = (obj: Partial<EnvVar>): Uint8Array => {
    return encodeMessage(obj, EnvVar.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<EnvVar>): EnvVar => {
    return decodeMessage(buf, EnvVar.codec(), opts)
  }
}

export interface TaskSpec {
  name: string
  run?: string
  handler?: number
  args?: string
  deps: number[]
  retries?: number
  backoffMs?: number
  timeoutMs?: number
  priority?: number
  slots?: number
  env: EnvVar[]
  cwd?: string
  shards?: number
  trigger?: TriggerRule
  on: Label[]
  pool?: string
  depNames: string[]
}

export namespace TaskSpec {
  let _codec: Codec<TaskSpec>

  export const codec = (): Codec<TaskSpec> => {
    if (_codec == null) {
      _codec = message<TaskSpec>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if (obj.run != null) {
          w.uint32(18)
          w.string(obj.run)
        }

        if (obj.handler != null) {
          w.uint32(24)
          w.uint32(obj.handler)
        }

        if (obj.args != null) {
          w.uint32(34)
          w.string(obj.args)
        }

        if (obj.deps != null) {
          for (const value of obj.deps) {
            w.uint32(40)
            w.sint32(value)
          }
        }

        if (obj.retries != null) {
          w.uint32(48)
          w.uint64Number(obj.retries)
        }

        if (obj.backoffMs != null) {
          w.uint32(56)
          w.uint64Number(obj.backoffMs)
        }

        if (obj.timeoutMs != null) {
          w.uint32(64)
          w.uint64Number(obj.timeoutMs)
        }

        if (obj.priority != null) {
          w.uint32(72)
          w.sint64Number(obj.priority)
        }

        if (obj.slots != null) {
          w.uint32(80)
          w.uint64Number(obj.slots)
        }

        if (obj.env != null) {
          for (const value of obj.env) {
            w.uint32(90)
            EnvVar.codec().encode(value, w)
          }
        }

        if (obj.cwd != null) {
          w.uint32(98)
          w.string(obj.cwd)
        }

        if (obj.shards != null) {
          w.uint32(104)
          w.uint64Number(obj.shards)
        }

        if (obj.trigger != null) {
          w.uint32(112)
          TriggerRule.codec().encode(obj.trigger, w)
        }

        if (obj.on != null) {
          for (const value of obj.on) {
            w.uint32(122)
            Label.codec().encode(value, w)
          }
        }

        if (obj.pool != null) {
          w.uint32(130)
          w.string(obj.pool)
        }

        if (obj.depNames != null) {
          for (const value of obj.depNames) {
            w.uint32(138)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          deps: [],
          env: [],
          on: [],
          depNames: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.run = reader.string()
              break
            }
            case 3: {
              obj.handler = reader.uint32()
              break
            }
            case 4: {
              obj.args = reader.string()
              break
            }
            case 5: {
              if (opts.limits?.deps != null && obj.deps.length === opts.limits.deps) {
                throw new MaxLengthError('Decode error - map field "deps" had too many elements')
              }

              obj.deps.push(reader.sint32())
              break
            }
            case 6: {
              obj.retries = reader.uint64Number()
              break
            }
            case 7: {
              obj.backoffMs = reader.uint64Number()
              break
            }
            case 8: {
              obj.timeoutMs = reader.uint64Number()
              break
            }
            case 9: {
              obj.priority = reader.sint64Number()
              break
            }
            case 10: {
              obj.slots = reader.uint64Number()
              break
            }
            case 11: {
              if (opts.limits?.env != null && obj.env.length === opts.limits.env) {
                throw new MaxLengthError('Decode error - map field "env" had too many elements')
              }

              obj.env.push(EnvVar.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.env$
              }))
              break
            }
            case 12: {
              obj.cwd = reader.string()
              break
            }
            case 13: {
              obj.shards = reader.uint64Number()
              break
            }
            case 14: {
              obj.trigger = TriggerRule.codec().decode(reader)
              break
            }
            case 15: {
              if (opts.limits?.on != null && obj.on.length === opts.limits.on) {
                throw new MaxLengthError('Decode error - map field "on" had too many elements')
              }

              obj.on.push(Label.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.on$
              }))
              break
            }
            case 16: {
              obj.pool = reader.string()
              break
            }
            case 17: {
              if (opts.limits?.depNames != null && obj.depNames.length === opts.limits.depNames) {
                throw new MaxLengthError('Decode error - map field "depNames" had too many elements')
              }

              obj.depNames.push(reader.string())
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

  export const encode = (obj: Partial<TaskSpec>): Uint8Array => {
    return encodeMessage(obj, TaskSpec.codec())
  }

  export const decode = (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskSpec>): TaskSpec => {
    return decodeMessage(buf, TaskSpec.codec(), opts)
  }
}

export enum TriggerRule {
  ALL_SUCCESS = 'ALL_SUCCESS',
  ALL_DONE = 'ALL_DONE',
  ALL_FAILED = 'ALL_FAILED',
  ONE_SUCCESS = 'ONE_SUCCESS',
  ONE_FAILED = 'ONE_FAILED',
  NONE_FAILED = 'NONE_FAILED'
}

enum __TriggerRuleValues {
  ALL_SUCCESS = 0,
  ALL_DONE = 1,
  ALL_FAILED = 2,
  ONE_SUCCESS = 3,
  ONE_FAILED = 4,
  NONE_FAILED = 5
}

export namespace TriggerRule {
  export const codec = (): Codec<TriggerRule> => {
    return enumeration<TriggerRule>(__TriggerRuleValues)
  }
}

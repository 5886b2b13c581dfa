// Drives the official JS SDK against a b24local server and prints what it saw,
// one JSON document on stdout. Usage: node b24jssdk_calls.mjs <webhook-url>
// (the CA comes from NODE_EXTRA_CA_CERTS). tests/clients/test_b24jssdk.py runs it.
import { B24Hook, BatchRefV3 } from '@bitrix24/b24jssdk'

const $b24 = B24Hook.fromWebhookUrl(process.argv[2])
const seen = {}

async function v3(name, method, params) {
  try {
    const response = await $b24.actions.v3.call.make({ method, params })
    seen[name] = response.isSuccess
      ? { ok: true, result: response.getData().result }
      : { ok: false, errors: response.getErrorMessages() }
  } catch (error) {
    seen[name] = { ok: false, code: error.code, status: error.status, message: error.message }
  }
}

const userId = Number(process.argv[3] ?? 1)
await v3('list', 'timeman.record.list', {
  filter: [['userId', '=', userId]],
  select: ['id', 'startTime', 'endTime', 'duration'],
  order: { startTime: 'DESC' },
  pagination: { limit: 2 },
})
await v3('fields', 'timeman.record.field.list', {})
await v3('field', 'timeman.record.field.get', { name: 'startTime' })
await v3('missingUser', 'timeman.record.list', { filter: [] })
await v3('oldOnNew', 'timeman.status', {})

async function v3batch(name, calls) {
  try {
    const response = await $b24.actions.v3.batch.make({ calls })
    seen[name] = response.isSuccess
      ? { ok: true, result: response.getData() }
      : { ok: false, errors: response.getErrorMessages() }
  } catch (error) {
    seen[name] = { ok: false, code: error.code, status: error.status, message: error.message }
  }
}

// Named calls: the SDK sends `as` for each, and the second refers to the first.
await v3batch('batch', {
  days: { method: 'timeman.record.list', params: { filter: [['userId', '=', userId]], select: ['id', 'userId'] } },
  mine: {
    method: 'timeman.record.list',
    params: { filter: [['userId', 'in', BatchRefV3.refArray('days.userId')]], select: ['id'] },
  },
  field: ['timeman.record.field.get', { name: 'duration' }],
})
await v3batch('batchFails', [
  ['timeman.record.field.list', {}],
  ['timeman.record.field.get', { name: 'nope' }],
])

try {
  const status = await $b24.actions.v2.call.make({ method: 'timeman.status', params: {} })
  seen.v2 = { ok: status.isSuccess, result: status.getData().result }
} catch (error) {
  seen.v2 = { ok: false, code: error.code, status: error.status, message: error.message }
}

process.stdout.write(JSON.stringify(seen))

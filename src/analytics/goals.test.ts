import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGoal, describeGoal, parseGoalSpec } from './goals.ts';

const view = (page: string) => ({ at: 0, page, name: 'pageview' });

test('page patterns: * stays within a path segment, ** crosses them, the rest is literal', () => {
  const blog = compileGoal('Blog', parseGoalSpec({ page: '/blog/*' }));
  assert.ok(blog.matches(view('/blog/a')));
  assert.ok(!blog.matches(view('/blog/a/b')));
  assert.ok(!blog.matches(view('/blogs/a')));
  const deep = compileGoal('Deep', parseGoalSpec({ page: '/blog/**' }));
  assert.ok(deep.matches(view('/blog/a/b')));
  const literal = compileGoal('Dot', parseGoalSpec({ page: '/a.b(c)+' }));
  assert.ok(literal.matches(view('/a.b(c)+')));
  assert.ok(!literal.matches(view('/aXb(c)+')));
  assert.ok(!blog.matches({ at: 0, page: '/blog/a', name: 'signup' }), 'a page goal counts page views only');
});

test('event goals match the name and every property filter', () => {
  const pro = compileGoal(
    'Pro signup',
    parseGoalSpec({
      event: 'signup',
      props: [
        ['is', 'plan', ['pro', 'team']],
        ['is_not', 'trial', ['yes']],
      ],
    }),
  );
  assert.ok(pro.matches({ at: 0, page: '/', name: 'signup', props: { plan: 'pro' } }));
  assert.ok(!pro.matches({ at: 0, page: '/', name: 'signup', props: { plan: 'pro', trial: 'yes' } }));
  assert.ok(!pro.matches({ at: 0, page: '/', name: 'signup', props: { plan: 'free' } }));
  assert.ok(!pro.matches({ at: 0, page: '/', name: 'signup' }));
  assert.ok(!pro.matches({ at: 0, page: '/', name: 'pageview' }));
  const contains = compileGoal('c', parseGoalSpec({ event: 'x', props: [['contains', 'ref', ['NEWS']]] }));
  assert.ok(contains.matches({ at: 0, page: '/', name: 'x', props: { ref: 'newsletter' } }));
  assert.equal(describeGoal(pro.spec), 'signup where plan is pro|team and trial is not yes');
});

test('bad definitions are refused, naming the part', () => {
  for (const [spec, message] of [
    [{}, /exactly one/],
    [{ page: '/a', event: 'b' }, /exactly one/],
    [{ page: 'no-slash' }, /path pattern/],
    [{ event: 'pageview' }, /custom event/],
    [{ page: '/a', props: [] }, /event goals/],
    [{ event: 'x', props: [['has', 'k', ['v']]] }, /op must be/],
    [{ event: 'x', props: [['is', 'bad key', ['v']]] }, /property key/],
    [{ event: 'x', props: [['is', 'k', []]] }, /1 to 50/],
  ] as const)
    assert.throws(() => parseGoalSpec(spec), { code: 'GOAL_INVALID', message });
});

import '@testing-library/jest-dom/vitest';

// jsdom has no PointerEvent, so testing-library's `fireEvent.pointerDown` would send a bare
// Event without `button` or `pointerId`. Browsers have it; a MouseEvent with a pointer id is
// what the components read.
if (typeof window !== 'undefined' && typeof window.PointerEvent === 'undefined') {
  class PointerEventShim extends MouseEvent {
    readonly pointerId: number;
    readonly pointerType: string;
    constructor(type: string, init: PointerEventInit = {}) {
      super(type, init);
      this.pointerId = init.pointerId ?? 1;
      this.pointerType = init.pointerType ?? 'mouse';
    }
  }
  window.PointerEvent = PointerEventShim as unknown as typeof PointerEvent;
}

// The French catalog is a chunk the window imports the first time it speaks French
// (lib/i18n). Tests that switch to French read it at once, so it is loaded here first, once
// per test file; `lib/i18n/i18n.test.ts` checks the import itself on a fresh module.
{
  const { language } = await import('./src/lib/i18n/index.svelte');
  await language.ready('fr');
}

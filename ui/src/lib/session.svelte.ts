/**
 * Who is here: my profile and my partner's (once paired). Every feature reads
 * names and avatars from here; it reloads when the node says the space or the pairing changed.
 */
import { appState, type AppError, type AppSnapshot, type Person, type PersonId } from './backend';
import { t } from './i18n/index.svelte';
import { onNodeEvent } from './nodeEvents';

class Session {
  state = $state.raw<AppSnapshot>({ device_id: null, profile: null, partner: null, paired: false, catching_up: false });
  error = $state.raw<AppError | null>(null);
  loaded = $state(false);

  get me(): Person | null {
    return this.state.profile;
  }

  get partner(): Person | null {
    return this.state.partner;
  }

  /** A person's display name, "You" for me, or a neutral word for someone unknown. */
  nameOf(id: PersonId): string {
    if (id === this.state.profile?.id) return t('lib.session.you');
    if (id === this.state.partner?.id) return this.state.partner.display_name;
    return this.state.paired ? t('lib.session.yourPartner') : t('lib.session.someone');
  }

  /** A person's profile, when known. */
  person(id: PersonId): Person | null {
    if (id === this.state.profile?.id) return this.state.profile;
    if (id === this.state.partner?.id) return this.state.partner;
    return null;
  }

  isMe(id: PersonId): boolean {
    return id === this.state.profile?.id;
  }

  async load(): Promise<void> {
    const outcome = await appState();
    if (outcome.ok) {
      this.state = outcome.value;
      this.error = null;
    } else {
      this.error = outcome.error;
    }
    this.loaded = true;
  }

  /** Sets the state directly (after creating a profile, and in tests). */
  set(state: AppSnapshot): void {
    this.state = state;
    this.error = null;
    this.loaded = true;
  }

  /** Follows the node: reload on pairing and space changes. */
  follow(): () => void {
    return onNodeEvent((event) => {
      if (event.event === 'paired' || event.event === 'space_changed' || event.event === 'resync' || event.event === 'caught_up') {
        void this.load();
      }
    });
  }
}

export const session = new Session();

/** The conversation in French: what the window shows once the language is Français. */
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { language } from '../lib/i18n/index.svelte';
import { fullTime } from '../lib/time';
import { ME, PARTNER, at, msg } from '../test/messages';
import Composer from './Composer.svelte';
import MessageRow from './MessageRow.svelte';
import PinnedStrip from './PinnedStrip.svelte';
import Reactions from './Reactions.svelte';
import Receipt from './Receipt.svelte';
import TypingIndicator from './TypingIndicator.svelte';
import type { Message } from '../lib/backend';

afterEach(() => {
  cleanup();
  language.choose('system');
  localStorage.clear();
});

function composer(props: Record<string, unknown> = {}) {
  render(Composer, {
    label: 'Écrire à Ben',
    placeholder: 'Écrire à Ben…',
    onsend: vi.fn(),
    onsaveedit: vi.fn(async () => null),
    oneditlast: vi.fn(() => false),
    ...props,
  });
  const field = screen.getByTestId('composer') as HTMLTextAreaElement;
  return { field, type: (text: string) => fireEvent.input(field, { target: { value: text } }) };
}

function row(message: Message, quoted: Message | null = null) {
  render(MessageRow, {
    entry: { message },
    first: true,
    me: ME,
    sender: null,
    nameOf: (id: string) => (id === ME ? 'Vous' : 'Ben'),
    quoted,
    tabbable: true,
    onreply: vi.fn(),
    onedit: vi.fn(),
    ondelete: vi.fn(async () => null),
    ontoggle: vi.fn(async () => null),
    onjump: vi.fn(),
    onretry: vi.fn(),
    ondiscard: vi.fn(),
    onfocusrow: vi.fn(),
  });
}

describe('the conversation in French', () => {
  it('writes the composer’s words, numbers and refusal in French', async () => {
    language.choose('fr');
    const c = composer();
    expect(screen.getByRole('button', { name: 'Envoyer' })).toBeDisabled();
    expect(screen.getByTestId('emoji-button')).toHaveAccessibleName('Insérer un emoji');
    expect(c.field.title).toContain('Maj+Entrée');
    expect(c.field.title).toContain('**gras** _italique_ `code`');
    await c.type('a'.repeat(1800));
    expect(screen.getByTestId('composer-counter')).toHaveTextContent('1 800 / 2 000');
    await c.type('a'.repeat(2001));
    expect(screen.getByRole('alert')).toHaveTextContent(
      'Trop long pour être envoyé : 1 caractère de trop (la limite est de 2 000). Raccourcissez-le pour l’envoyer.',
    );
    await c.type('a'.repeat(2003));
    expect(screen.getByRole('alert')).toHaveTextContent('3 caractères de trop');
  });

  it('keeps the name and the quote apart in the reply banner, in either language', async () => {
    language.choose('fr');
    composer({ replyTo: { name: 'Ben', text: 'On le fait dimanche ?' } });
    const banner = screen.getByText(/En réponse à/);
    expect(banner).toHaveTextContent('En réponse à Ben : On le fait dimanche ?');
    expect(within(banner).getByText('Ben').tagName).toBe('STRONG');
    expect(banner.querySelector('.quote')).toHaveTextContent('On le fait dimanche ?');
    expect(screen.getByRole('button', { name: 'Annuler la réponse' })).toBeInTheDocument();

    language.choose('en');
    await tick();
    expect(banner).toHaveTextContent('Replying to Ben: On le fait dimanche ?');
    expect(within(banner).getByText('Ben').tagName).toBe('STRONG');
  });

  it('follows a change of language at once, without being shown again', async () => {
    composer({ editing: { id: 'm1', text: 'old' } });
    expect(screen.getByText('Editing your message')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Save' })).toBeInTheDocument();
    language.choose('fr');
    await tick();
    expect(screen.getByText('Modification de votre message')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Enregistrer' })).toBeInTheDocument();
  });

  it('labels a message, its quote, its actions and the delete confirmation in French', async () => {
    language.choose('fr');
    const original = msg({ created_at: at(20, 0), sender: ME, content: 'J’ai trouvé la recette !' });
    row(
      msg({ created_at: at(20, 5), sender: ME, reply_to: original.id, edited: true, edited_at: at(20, 6) }),
      original,
    );
    expect(screen.getByRole('button', { name: 'Réponse à Vous : J’ai trouvé la recette !. Afficher le message' }))
      .toBeInTheDocument();
    expect(screen.getByTestId('edited-marker')).toHaveTextContent('(modifié)');
    expect(screen.getByTestId('edited-marker')).toHaveAttribute('title', `Modifié le ${fullTime(at(20, 6))}`);
    expect(screen.getByRole('toolbar', { name: 'Actions sur le message' })).toBeInTheDocument();
    expect(screen.getByTestId('react-button')).toHaveAttribute('title', 'Ajouter une réaction (+)');
    await fireEvent.click(screen.getByTestId('delete-button'));
    const ask = screen.getByRole('alertdialog', { name: 'Supprimer ce message ?' });
    expect(ask).toHaveTextContent('Supprimer ce message pour vous deux ?');
    expect(within(ask).getByRole('button', { name: 'Annuler' })).toBeInTheDocument();
    expect(within(ask).getByRole('button', { name: 'Supprimer' })).toBeInTheDocument();
  });

  it('says a deleted message was deleted, in French', () => {
    language.choose('fr');
    row(msg({ created_at: at(20), sender: PARTNER, deleted: true, content: '' }));
    expect(screen.getByTestId('message-content')).toHaveTextContent('Ce message a été supprimé.');
  });

  it('describes receipts, reactions, pins and typing in French', () => {
    language.choose('fr');
    render(Receipt, { entry: { message: msg({ created_at: at(20), sender: ME }) } });
    expect(screen.getByRole('img')).toHaveAccessibleName('Envoyé, pas encore reçu par votre partenaire');
    cleanup();

    render(Reactions, {
      reactions: [
        { user: PARTNER, emoji: '💛', created_at: 1 },
        { user: ME, emoji: '💛', created_at: 2 },
      ],
      me: ME,
      nameOf: (id: string) => (id === ME ? 'Vous' : 'Ben'),
      ontoggle: () => {},
    });
    const chip = screen.getByTestId('reaction');
    expect(chip).toHaveAttribute('title', 'Réaction 💛 par Ben et Vous');
    expect(chip).toHaveAccessibleName('Réaction 💛 par Ben et Vous (cliquez pour retirer la vôtre)');
    cleanup();

    const pinned = (content: string, minutes: number) => ({
      message: msg({ created_at: at(20, minutes), content }),
      pinned_by: ME,
      pinned_at: at(21),
    });
    render(PinnedStrip, {
      pins: [pinned('Dîner à 20 h', 0), pinned('Vol PT123', 1)],
      nameOf: (id: string) => (id === ME ? 'Vous' : 'Ben'),
      onjump: () => {},
    });
    expect(screen.getByRole('region', { name: 'Messages épinglés' })).toHaveTextContent('Épinglés (2)');
    expect(screen.getByRole('button', { name: 'Tout afficher (2)' })).toBeInTheDocument();
    cleanup();

    render(TypingIndicator, { name: 'Ben' });
    expect(screen.getByTestId('typing-indicator')).toHaveTextContent('Ben écrit…');
  });
});

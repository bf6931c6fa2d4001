/** The lists in French: the sidebar and an open list follow the window’s language. */
import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { language } from '../lib/i18n/index.svelte';
import { startNodeEvents } from '../lib/nodeEvents';
import { leftText, listsBook } from './lists.svelte';
import ListsSection from './ListsSection.svelte';
import ListView from './ListView.svelte';
import { listsNode } from './testing';

let stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  cleanup();
  listsBook.clear();
  clearMocks();
  language.choose('system');
});

describe('the lists in French', () => {
  it('say what is left, with French plurals', () => {
    language.choose('fr');
    const list = (checked: boolean[]) => ({
      id: 'a'.repeat(32),
      title: 'x',
      items: checked.map((c, i) => ({ id: `${'b'.repeat(30)}0${i}`, text: `item ${i}`, checked: c })),
      updated_at: 1,
    });
    expect(leftText(list([]))).toBe('vide');
    expect(leftText(list([true, false]))).toBe('1 restant');
    expect(leftText(list([false, false, false]))).toBe('3 restants');
    expect(leftText(list([true]))).toBe('tout est fait');
  });

  it('show the sidebar in French, and switch back at once', async () => {
    const node = listsNode();
    node.make('Courses', ['Lait', 'Œufs']);
    await listsBook.load();
    language.choose('fr');
    render(ListsSection);
    const section = screen.getByTestId('lists-section');
    expect(within(section).getByRole('heading', { name: 'Listes' })).toBeInTheDocument();
    expect(screen.getByTestId('list-link')).toHaveAccessibleName('Courses, 2 restants');
    expect(screen.getByTestId('list-new')).toHaveAccessibleName('Créer une liste');

    await fireEvent.click(screen.getByTestId('list-new'));
    const field = screen.getByTestId('list-new-title');
    expect(field).toHaveAttribute('placeholder', 'titre de la liste');
    await fireEvent.submit(field.closest('form')!);
    expect(screen.getByRole('alert')).toHaveTextContent("Une liste a besoin d’un titre.");

    // A change of language shows at once, the problem included.
    language.choose('en');
    await vi.waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('A list needs a title.'));
    expect(within(section).getByRole('heading', { name: 'Lists' })).toBeInTheDocument();
    expect(screen.getByTestId('list-link')).toHaveAccessibleName('Courses, 2 left');
  });

  it('show an open list in French', async () => {
    const node = listsNode();
    const list = node.make('Courses', ['Lait', 'Œufs', 'Pain']);
    await listsBook.load();
    listsBook.show(list.id);
    language.choose('fr');
    render(ListView, { id: list.id });
    expect(screen.getByTestId('list-view')).toHaveAccessibleName('Liste : Courses');
    expect(screen.getByText(/3 restants · 3 éléments · partagée avec votre partenaire/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Modifier Œufs' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Monter Pain' })).toHaveAttribute('title', 'Monter (Alt+↑)');
    expect(screen.getByRole('button', { name: 'Retirer Lait' })).toBeInTheDocument();
    expect(screen.getByTestId('list-add')).toHaveAttribute('placeholder', 'Ajouter un élément');
    expect(screen.getByTestId('list-hide-done')).toHaveTextContent('Masquer ce qui est fait');

    await fireEvent.click(screen.getByTestId('list-delete'));
    expect(screen.getByText('Supprimer « Courses » et ses 3 éléments pour vous deux ?')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Annuler' })).toBeInTheDocument();
  });

  it('say in French that the open list was deleted elsewhere', async () => {
    const node = listsNode();
    const groceries = node.make('Courses', ['Lait']);
    stops.push(await startNodeEvents());
    stops.push(listsBook.follow());
    await listsBook.load();
    listsBook.show(groceries.id);
    language.choose('fr');

    node.fake.byPartner(groceries.id, 'delete');
    await vi.waitFor(() => expect(listsBook.open).toBeNull());
    expect(listsBook.notice).toBe('« Courses » a été supprimée, elle a donc été fermée.');
    language.choose('en');
    expect(listsBook.notice).toBe('“Courses” was deleted, so it was closed.');
  });
});
